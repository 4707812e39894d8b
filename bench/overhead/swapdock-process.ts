// The swapdock process under test (bench/serve-fake.ts or --serve): start, await ready line, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ServeFakeReady } from '../serve-fake.js';
import { CLIENT_CPU, pinned, pinPid, PROXY_CPU } from './cores.js';
import { OUT_DIR, ROOT, type BenchOptions } from './plan.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSwapdock(options: Pick<BenchOptions, 'cpuProf' | 'serve' | 'serveArgs'>): Promise<{ child: ChildProcess; ready: ServeFakeReady }> {
  const nodeArgs = ['--import', 'tsx'];
  if (options.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`);
  const [cmd, argv] = pinned(process.execPath, [...nodeArgs, path.resolve(ROOT, options.serve), ...options.serveArgs.split(' ').filter(Boolean)], PROXY_CPU);
  // stdout (swapdock's JSON log, one line per request) goes to /dev/null: written, never read.
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  const ready = await new Promise<ServeFakeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('swapdock did not get ready within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`swapdock exited early with code ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as ServeFakeReady);
      } else process.stderr.write(`[swapdock] ${line}\n`);
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
