// The swapdock processes under test (bench/serve-fake.ts or --serve, current or --before tree):
// start one pinned to the proxy core, await its ready line, subscribe to its /api/events, stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ServeFakeReady } from '../serve-fake.js';
import type { SourceTree } from './before-tree.js';
import { CLIENT_CPU, pinned, pinPid, PROXY_CPU } from './cores.js';
import { OUT_DIR } from './plan.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SwapdockStart {
  tree: SourceTree;
  /** Arguments for the serve script, e.g. '--models 500'. */
  args: string;
  /** Write a V8 CPU profile of this process into .bench/. */
  cpuProf?: boolean;
  /** Name in log lines: 'before' or 'after'. */
  label: string;
}

export async function startSwapdock(options: SwapdockStart): Promise<{ child: ChildProcess; ready: ServeFakeReady }> {
  // TypeScript (a --serve script given as .ts) runs through tsx; the compiled driver runs plain.
  const nodeArgs = options.tree.serve.endsWith('.ts') ? ['--import', 'tsx'] : [];
  if (options.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`);
  const script = path.resolve(options.tree.dir, options.tree.serve);
  const [cmd, argv] = pinned(process.execPath, [...nodeArgs, script, ...options.args.split(' ').filter(Boolean)], PROXY_CPU);
  // stdout (swapdock's JSON log, one line per request) goes to /dev/null: written, never read.
  const child = spawn(cmd, argv, { cwd: options.tree.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  const ready = await new Promise<ServeFakeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`swapdock (${options.label}) did not get ready within 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`swapdock (${options.label}) exited early with code ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as ServeFakeReady);
      } else process.stderr.write(`[swapdock ${options.label}] ${line}\n`);
    });
  });
  // FakeRuntime spawned the backend from the swapdock process, so it inherited swapdock's core.
  pinPid(ready.backendPid, CLIENT_CPU);
  return { child, ready };
}

export async function stopSwapdock(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export const authHeaders = (ready: ServeFakeReady): Record<string, string> => (ready.apiKey ? { authorization: `Bearer ${ready.apiKey}` } : {});

/**
 * A live `GET /api/events` subscriber for the whole run, as the web UI keeps one open: swapdock
 * serialises and writes every request event to it. Read and dropped here (a few hundred bytes
 * per request, on the client core). Resolves once the stream answered 200.
 */
export function subscribeEvents(ready: ServeFakeReady, label: string): Promise<{ close(): void; bytes(): number }> {
  const url = new URL(`${ready.url}/api/events`);
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { accept: 'text/event-stream', ...authHeaders(ready) } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`GET /api/events of swapdock (${label}) answered ${res.statusCode}`));
      }
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('error', () => {});
      resolve({ close: () => req.destroy(), bytes: () => bytes });
    });
    req.on('error', (err) => (bytes === 0 ? reject(err) : undefined));
    req.end();
  });
}
