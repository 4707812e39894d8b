// Idle RSS: swapdock started the way users run it (`node bin/swapdock.js serve --config FILE`,
// built dist/) against the real engine, with 3 and with 500 models configured (image
// fake-model:latest, never requested, so no container starts; an instance name of this run's own,
// so it adopts and removes nothing of anyone else's). Once it listens and has settled for 3 s,
// VmRSS from /proc/PID/status (the largest of 5 samples 200 ms apart); then SIGTERM.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { benchConfigText } from '../bench-config.js';
import type { SourceTree } from './before-tree.js';
import { pinned, PROXY_CPU } from './cores.js';
import { orderOf, OUT_DIR, RSS_MODEL_COUNTS, type Plan, type ProxyMode } from './plan.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SETTLE_MS = 3_000;
const SAMPLES = 5;

export type RssRun =
  | { available: true; engine: string; rounds: Record<number, Partial<Record<ProxyMode, number[]>>> }
  | { available: false; reason: string };

/** The engine's unix socket: DOCKER_HOST when it names one, else /var/run/docker.sock; undefined for a TCP DOCKER_HOST. */
function engineSocket(): string | undefined {
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

function pingEngine(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 3_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `the engine at ${socketPath} answered /_ping with ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve(`no engine at ${socketPath} (${err.message})`));
    req.end();
  });
}

const vmRssBytes = (pid: number): number => {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
};

/** One start: the largest VmRSS sample once idle, in MB (10^6 bytes). */
async function idleRssMb(tree: SourceTree, configFile: string, label: string): Promise<number> {
  const bin = path.join(tree.dir, 'bin', 'swapdock.js');
  const [cmd, argv] = pinned(process.execPath, [bin, 'serve', '--config', configFile, '--listen', '127.0.0.1:0', '--log-format', 'json'], PROXY_CPU);
  // DOCKER_HOST (when set) is inherited, so swapdock talks to the engine pinged above.
  const child = spawn(cmd, argv, { cwd: tree.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`swapdock (${label}) did not listen within 60 s:\n${output.slice(-2000)}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`swapdock (${label}) exited with code ${code} before listening:\n${output.slice(-2000)}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output += `${line}\n`;
        if (line.includes(' listening on ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await sleep(SETTLE_MS);
    let max = 0;
    for (let i = 0; i < SAMPLES; i++) {
      max = Math.max(max, vmRssBytes(child.pid!));
      await sleep(200);
    }
    return max / 1e6;
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

export async function measureIdleRss(trees: Partial<Record<ProxyMode, SourceTree>>, plan: Plan, log: (msg: string) => void): Promise<RssRun> {
  const socket = engineSocket();
  if (!socket) return { available: false, reason: `DOCKER_HOST=${process.env.DOCKER_HOST} is not a unix socket; this section measures against a local engine` };
  const unavailable = await pingEngine(socket);
  if (unavailable) return { available: false, reason: unavailable };
  const modes = (['before', 'proxied'] as const).filter((m) => trees[m]);
  const instance = `bench-rss-${process.pid}`;
  const rounds: Record<number, Partial<Record<ProxyMode, number[]>>> = {};
  log(`idle RSS: \`node bin/swapdock.js serve\` on the engine at ${socket}, ${RSS_MODEL_COUNTS.join(' and ')} models, ${plan.rssRounds} start(s) per version, instance ${instance}`);
  for (const count of RSS_MODEL_COUNTS) {
    const configFile = path.join(OUT_DIR, `idle-rss-${count}-models.yaml`);
    writeFileSync(configFile, benchConfigText({ instance, models: count }));
    rounds[count] = Object.fromEntries(modes.map((m) => [m, []]));
    for (let r = 0; r < plan.rssRounds; r++) {
      for (const mode of orderOf(modes, r) as ProxyMode[]) rounds[count]![mode]!.push(await idleRssMb(trees[mode]!, configFile, mode === 'before' ? 'before' : 'after'));
    }
  }
  return { available: true, engine: socket, rounds };
}
