// Helpers for the fault tests (test/integration/faults-*.ts, engine-restart.test.ts): reach a
// model container directly, watch what a run leaves on the engine, drive `swapdock serve` as a
// child process with all of its log lines kept, and stop/start the GPU test dockerd and the Podman
// API service.
import { execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_MODEL } from '../../src/runtime/labels.js';
import { spawnCli } from './cli.js';
import { engineSockets, pingSocket } from './engines.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something other than undefined/false; throws after `timeoutMs`. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Every container of a run, by its instance label alone (so one that lost our other labels shows too). */
export function byInstance(docker: Docker, instance: string) {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
}

/** Containers carrying our managed-by label AND this instance. */
export function managedByUs(docker: Docker, instance: string) {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED_BY}=swapdock`, `${LABEL_INSTANCE}=${instance}`] } });
}

export const modelOf = (c: Docker.ContainerInfo) => c.Labels[LABEL_MODEL];

/** The 127.0.0.1 port a model container publishes for its port 8000. */
export async function hostPort(docker: Docker, containerId: string): Promise<number> {
  const inspect = await docker.getContainer(containerId).inspect();
  const port = inspect.NetworkSettings.Ports?.['8000/tcp']?.find((b) => b.HostPort)?.HostPort;
  if (!port) throw new Error(`container ${containerId.slice(0, 12)} publishes no port for 8000/tcp`);
  return Number(port);
}

/** The backend's own environment (fake-model's GET /fake/env), bypassing swapdock. */
export async function backendEnv(docker: Docker, containerId: string): Promise<Record<string, string>> {
  const res = await fetch(`http://127.0.0.1:${await hostPort(docker, containerId)}/fake/env`);
  return (await res.json()) as Record<string, string>;
}

/** Makes the backend exit with code 3 (fake-model's POST /fake/crash). */
export async function crashBackend(docker: Docker, containerId: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${await hostPort(docker, containerId)}/fake/crash`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`POST /fake/crash answered ${res.status}`);
  await res.text();
}

/** Samples a run's containers in the background: the most containers any one model ever had. */
export function sampleContainers(docker: Docker, instance: string, intervalMs = 100) {
  const max = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const list = await byInstance(docker, instance).catch(() => []);
      const counts = new Map<string, number>();
      for (const c of list) counts.set(modelOf(c) ?? '?', (counts.get(modelOf(c) ?? '?') ?? 0) + 1);
      for (const [m, n] of counts) max.set(m, Math.max(max.get(m) ?? 0, n));
      await sleep(intervalMs);
    }
  })();
  return {
    async stop(): Promise<Map<string, number>> {
      stopped = true;
      await loop;
      return max;
    },
  };
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** `swapdock serve` as a child process; every JSON log line is kept, so a wait sees past lines too. */
export class ServeProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private output = '';
  private listeners = new Set<() => void>();

  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          // not JSON: kept in `output` only
        }
      }
      for (const l of this.listeners) l();
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => this.listeners.forEach((l) => l()));
  }

  static start(configFile: string): ServeProcess {
    return new ServeProcess(spawnCli(['serve', '--config', configFile, '--listen', '127.0.0.1:0']));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line (past or future) matching `predicate`. */
  waitForLine(what: string, predicate: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.find(predicate);
        if (hit) return done(() => resolve(hit));
        if (!this.running) done(() => reject(new Error(`swapdock exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; output:\n${this.output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no log line for ${what} within ${timeoutMs} ms; output:\n${this.output}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  async url(): Promise<string> {
    return (await this.waitForLine('the listening line', (l) => typeof l.url === 'string')).url as string;
  }

  /** SIGKILL (no cleanup of any kind), and waits for the process to be gone. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

// The GPU test dockerd (scripts/engines.sh `gpu-docker`): ours to stop and start in tests.
const GPU_PIDFILE = '/run/swapdock-gpu/docker.pid';
const engineScript = fileURLToPath(new URL('../../scripts/engines.sh', import.meta.url));

function gpuDockerdPid(): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(GPU_PIDFILE, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isGpuDockerd(pid) ? pid : undefined;
}

/** A live (not zombie) dockerd serving the GPU test socket; never the main daemon. */
function isGpuDockerd(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return state !== 'Z' && /dockerd$/.test(cmdline[0] ?? '') && cmdline.includes(`unix://${engineSockets.gpuDocker}`);
  } catch {
    return false;
  }
}

/**
 * Stops the GPU test dockerd and waits until it is gone. SIGTERM: it stops its containers first
 * (live-restore is off). SIGKILL: a crash; containers keep running orphaned (their published
 * ports die with docker-proxy) until the next dockerd kills them when it starts.
 */
export async function stopGpuDocker(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  const pid = gpuDockerdPid();
  if (pid === undefined) throw new Error(`no live GPU test dockerd in ${GPU_PIDFILE}`);
  process.kill(pid, signal);
  await waitUntil('the GPU test dockerd to exit', () => !isGpuDockerd(pid), 90_000, 100);
  await waitUntil('the GPU test socket to stop answering', async () => !(await pingSocket(engineSockets.gpuDocker, 500)), 10_000);
}

/** Starts it again through scripts/engines.sh and waits until it answers _ping. Idempotent. */
export async function startGpuDocker(): Promise<void> {
  if (await pingSocket(engineSockets.gpuDocker, 1000)) return;
  await new Promise<void>((resolve, reject) =>
    execFile('bash', [engineScript, 'start', 'gpu-docker'], { timeout: 120_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`engines.sh start gpu-docker failed: ${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  await waitUntil('the GPU test dockerd to answer _ping', () => pingSocket(engineSockets.gpuDocker, 1000), 60_000, 200);
}

// The Podman API service (scripts/engines.sh `podman`): `podman system service` on the test socket.
// Containers live on under conmon while it is down.

/** Pids of live (not zombie) `podman system service` processes serving the test socket. */
function podmanServicePids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (isPodmanService(pid)) pids.push(pid);
  }
  return pids;
}

function isPodmanService(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0];
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = args.indexOf('system');
    return (
      state !== 'Z' &&
      /(^|\/)podman$/.test(args[0] ?? '') &&
      at >= 0 && args[at + 1] === 'service' &&
      args.includes(`unix://${engineSockets.podman}`)
    );
  } catch {
    return false; // gone meanwhile, or not ours to read
  }
}

/** SIGTERMs the Podman API service and waits until it is gone and the socket stops answering. */
export async function stopPodmanService(): Promise<void> {
  const pids = podmanServicePids();
  if (pids.length === 0) throw new Error(`no live 'podman system service' serving unix://${engineSockets.podman}`);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  await waitUntil('the Podman API service to exit', () => pids.every((pid) => !isPodmanService(pid)), 60_000, 100);
  await waitUntil('the Podman socket to stop answering', async () => !(await pingSocket(engineSockets.podman, 500)), 10_000);
}

/** Starts it again through scripts/engines.sh and waits until it answers _ping. Idempotent. */
export async function startPodmanService(): Promise<void> {
  if (await pingSocket(engineSockets.podman, 1000)) return;
  await new Promise<void>((resolve, reject) =>
    execFile('bash', [engineScript, 'start', 'podman'], { timeout: 120_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`engines.sh start podman failed: ${err.message}\n${stderr}`)) : resolve(),
    ),
  );
  await waitUntil('the Podman API service to answer _ping', () => pingSocket(engineSockets.podman, 1000), 60_000, 200);
}
