// An in-memory ContainerRuntime for app and unit tests, faithful enough to pass the same
// contract suite as DockerRuntime: `start` really runs test/fixtures/fake-model/server.js as a
// child process on a free 127.0.0.1 port, so readiness probes and proxying work for real.
// Differences from an engine: no network namespaces (a spec's `network` is ignored and the
// endpoint is always 127.0.0.1), `entrypoint`/`volumes` are recorded but unused. The spec's
// `command` is passed to the server as its arguments, as the fake-model image's ENTRYPOINT
// (`node /app/server.js`) gets them (`--enable-sleep-mode` turns on vLLM's sleep API there); the
// child's environment is the spec's `env` alone (plus NVIDIA_VISIBLE_DEVICES for `gpus`), like a
// container's. The runtime picks the port and passes it as FAKE_PORT, which the server prefers to
// any `--port` in argv, so a model's `--port` cannot move it.
// Events (watch): 'died' when a child process exits for any reason, 'removed' on removal, like
// the engines; kill/simulateOom/removeByHand make crashes and outside interference happen.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type {
  ContainerEvent, ContainerInfo, ContainerRuntime, ContainerSpec, ContainerState, EngineInfo, EventSubscription, FollowLogsOptions, LogLine, PullProgress,
} from '../../src/runtime/container-runtime.js';
import { specHashLabelKey } from '../../src/runtime/docker-runtime.js';
import {
  ContainerConflictError, ContainerNotFoundError, EngineUnavailableError, GpuUnsupportedError, ImageUnavailableError,
} from '../../src/runtime/runtime-errors.js';

export type FakeOp = 'create' | 'start' | 'stop' | 'remove' | 'inspect' | 'list' | 'logs' | 'ensureImage';

export interface FakeRuntimeOptions {
  /** Images present "locally"; default `['fake-model:latest']`. */
  images?: Iterable<string>;
  /** Images a pull can fetch (a pretend registry); default none, like the test machines. */
  registry?: Iterable<string>;
  /** When false, starting a spec with `gpus` throws GpuUnsupportedError (as Docker without the toolkit). */
  gpuSupport?: boolean;
  kind?: EngineInfo['kind'];
  specHashLabel?: string;
  serverPath?: string;
  /** Where this engine "is", for messages (default fake://engine). */
  target?: string;
}

type WatchHandlers = Parameters<ContainerRuntime['watch']>[1];

interface FakeContainer {
  id: string;
  spec: ContainerSpec;
  state: ContainerState;
  exitCode?: number;
  oomKilled?: boolean;
  port?: number;
  child?: ChildProcess;
  exited?: Promise<void>;
  stopping?: Promise<void>;
  removing?: Promise<void>;
  logs: LogLine[];
  /** followLogs iterators waiting for lines; told `undefined` when the output ends. */
  followers: Set<(line: LogLine | undefined) => void>;
}

const MAX_LOG_LINES = 5_000;
const defaultServer = fileURLToPath(new URL('../fixtures/fake-model/server.js', import.meta.url));
// Children must not outlive the test process, whatever a test forgot to clean up.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => liveChildren.forEach((c) => c.kill('SIGKILL')));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function gpuEnv(spec: ContainerSpec): Record<string, string> {
  const g = spec.gpus;
  if (!g) return {};
  const ids = g.kind === 'all' ? ['all'] : g.kind === 'ids' ? g.ids : Array.from({ length: g.count }, (_, i) => String(i));
  return { NVIDIA_VISIBLE_DEVICES: ids.join(',') };
}

export class FakeRuntime implements ContainerRuntime {
  readonly images: Set<string>;
  readonly registry: Set<string>;
  readonly createdSpecs: ContainerSpec[] = [];
  readonly calls = { create: 0, start: 0, stop: 0, remove: 0 };
  readonly containers = new Map<string, FakeContainer>();
  private readonly failures = new Map<FakeOp, Error[]>();
  private away?: Error;
  private readonly opts: FakeRuntimeOptions;
  private readonly eventWatchers = new Set<{ labels: Record<string, string>; handlers: WatchHandlers; open: boolean }>();

  constructor(opts: FakeRuntimeOptions = {}) {
    this.opts = opts;
    this.images = new Set(opts.images ?? ['fake-model:latest']);
    this.registry = new Set(opts.registry ?? []);
  }

  /** The next call of `op` throws `error` (queued: several calls fail in order). */
  failNext(op: FakeOp, error: Error): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
  }

  private maybeFail(op: FakeOp): void {
    this.reachable();
    const err = this.failures.get(op)?.shift();
    if (err) throw err;
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.spec.name === idOrName || c.id.startsWith(idOrName));
  }

  private info(c: FakeContainer): ContainerInfo {
    const info: ContainerInfo = { id: c.id, name: c.spec.name, state: c.state, labels: { ...c.spec.labels } };
    if (c.state === 'exited' || c.state === 'dead') Object.assign(info, { exitCode: c.exitCode, oomKilled: c.oomKilled ?? false });
    if (c.state === 'running' && c.port) info.endpoint = { host: '127.0.0.1', port: c.port };
    return info;
  }

  /** Makes the engine unreachable, as a daemon that stopped: every call fails, watchers hear a disconnect. */
  goAway(reason = 'the fake engine went away'): void {
    if (this.away) return;
    this.away = new EngineUnavailableError(this.opts.target ?? 'fake://engine', reason);
    for (const w of this.eventWatchers) queueMicrotask(() => w.open && w.handlers.onDisconnect?.(this.away ?? new Error(reason)));
  }

  /** The engine answers again; watchers reconnect. */
  comeBack(): void {
    if (!this.away) return;
    this.away = undefined;
    for (const w of this.eventWatchers) queueMicrotask(() => w.open && w.handlers.onReconnect?.());
  }

  private reachable(): void {
    if (this.away) throw this.away;
  }

  async ping(_timeoutMs: number): Promise<void> {
    this.reachable();
  }

  async engineInfo(): Promise<EngineInfo> {
    this.reachable();
    return { kind: this.opts.kind ?? 'docker', version: 'fake', gpuSupport: this.opts.gpuSupport ?? true };
  }

  async ensureImage(spec: ContainerSpec, onProgress?: (p: PullProgress) => void): Promise<void> {
    this.maybeFail('ensureImage');
    const present = this.images.has(spec.image);
    if (spec.pull === 'never') {
      if (!present) throw new ImageUnavailableError(spec.image, "it is not on the engine and the model's pull policy is 'never'", 'never');
      return;
    }
    if (spec.pull === 'missing' && present) return;
    if (this.registry.has(spec.image)) {
      onProgress?.({ image: spec.image, status: 'Downloading', fraction: 0.5 });
      this.images.add(spec.image);
      onProgress?.({ image: spec.image, status: 'Pull complete', fraction: 1 });
      return;
    }
    if (spec.pull === 'always' && present) return; // pull failed, local copy used
    throw new ImageUnavailableError(spec.image, 'pulling it failed: no registry is reachable (fake runtime)');
  }

  async create(spec: ContainerSpec): Promise<ContainerInfo> {
    this.calls.create++;
    this.createdSpecs.push(structuredClone(spec));
    this.maybeFail('create');
    if (!this.images.has(spec.image)) {
      throw new ImageUnavailableError(spec.image, 'the engine has no such image (ensureImage was not called or it was removed)');
    }
    // Synchronous up to here, so racing creates collide on the name like on a real engine.
    const existing = [...this.containers.values()].find((c) => c.spec.name === spec.name);
    if (existing) {
      const key = specHashLabelKey(spec.labels, this.opts.specHashLabel);
      const want = key ? spec.labels[key] : undefined;
      const have = key ? existing.spec.labels[key] : undefined;
      if (want !== undefined && want === have) return this.info(existing);
      throw new ContainerConflictError(spec.name, existing.id, have, want);
    }
    const c: FakeContainer = { id: randomBytes(32).toString('hex'), spec: structuredClone(spec), state: 'created', logs: [], followers: new Set() };
    this.containers.set(c.id, c);
    return this.info(c);
  }

  async start(id: string): Promise<ContainerInfo> {
    this.calls.start++;
    this.maybeFail('start');
    const c = this.find(id);
    if (!c || c.removing) throw new ContainerNotFoundError(id);
    if (c.state === 'running') return this.info(c);
    if (c.spec.gpus && this.opts.gpuSupport === false) {
      // Like Docker: the container stays `created`; the caller removes it.
      throw new GpuUnsupportedError(this.opts.kind ?? 'docker', 'could not select device driver "nvidia" with capabilities: [[gpu]]');
    }
    c.port = await freePort();
    const child = spawn(process.execPath, [this.opts.serverPath ?? defaultServer, ...(c.spec.command ?? [])], {
      // Last, so a spec's own FAKE_PORT / FAKE_HOST cannot move the server off the endpoint reported.
      env: { ...c.spec.env, ...gpuEnv(c.spec), FAKE_PORT: String(c.port), FAKE_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    const add = (line: LogLine) => {
      c.logs.push(line);
      if (c.logs.length > MAX_LOG_LINES) c.logs.splice(0, c.logs.length - MAX_LOG_LINES);
      for (const follower of c.followers) follower(line);
    };
    const capture = (stream: NodeJS.ReadableStream, name: LogLine['stream']) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) add({ stream: name, line, at: Date.now() });
      });
      stream.on('end', () => partial && add({ stream: name, line: partial, at: Date.now() }));
    };
    capture(child.stdout!, 'stdout');
    capture(child.stderr!, 'stderr');
    c.child = child;
    c.state = 'running';
    c.exitCode = undefined;
    c.oomKilled = undefined;
    // 'close' (not 'exit'): the output is all read by then, as an engine's logs are once it reports the exit.
    c.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        liveChildren.delete(child);
        c.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
        c.state = 'exited';
        c.child = undefined;
        for (const follower of c.followers) follower(undefined);
        this.emit(c, { kind: 'died', exitCode: c.exitCode, oomKilled: c.oomKilled ?? false });
        resolve();
      });
    });
    child.on('error', (err) => add({ stream: 'stderr', line: `fake-runtime: spawn failed: ${err.message}`, at: Date.now() }));
    return this.info(c);
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    this.maybeFail('inspect');
    const c = this.find(id);
    return c ? this.info(c) : undefined;
  }

  async stop(id: string, timeoutMs: number): Promise<void> {
    this.calls.stop++;
    this.maybeFail('stop');
    const c = this.find(id);
    if (!c?.child || c.state !== 'running') return;
    c.stopping ??= this.terminate(c, timeoutMs).finally(() => (c.stopping = undefined));
    await c.stopping;
  }

  /** SIGTERM, then SIGKILL after `graceMs`, as the engines do with `t`. */
  private async terminate(c: FakeContainer, graceMs: number): Promise<void> {
    const child = c.child;
    if (!child) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([c.exited, killed]);
    clearTimeout(timer);
    await c.exited;
  }

  async remove(id: string): Promise<void> {
    this.calls.remove++;
    this.maybeFail('remove');
    await this.forceRemove(id);
  }

  private async forceRemove(id: string): Promise<void> {
    const c = this.find(id);
    if (!c) return;
    c.removing ??= (async () => {
      // Force removal kills at once, as `docker rm -f` does.
      if (c.child) {
        c.child.kill('SIGKILL');
        await c.exited;
      }
      c.state = 'removing';
      this.containers.delete(c.id);
      this.emit(c, { kind: 'removed' });
    })();
    await c.removing;
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    this.maybeFail('list');
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => this.info(c));
  }

  async logs(id: string, lines: number): Promise<string[]> {
    this.maybeFail('logs');
    return this.find(id)?.logs.slice(-lines).map((l) => l.line) ?? [];
  }

  async *followLogs(id: string, { signal, since, tail }: FollowLogsOptions): AsyncGenerator<LogLine> {
    const c = this.find(id);
    if (!c || signal.aborted) return;
    let history = since === undefined ? c.logs : c.logs.filter((l) => l.at >= since);
    if (tail !== undefined) history = history.slice(-tail);
    const queue: LogLine[] = [...history];
    let ended = !c.child;
    let wake: (() => void) | undefined;
    const follower = (line: LogLine | undefined) => {
      if (line) queue.push({ ...line });
      else ended = true;
      wake?.();
    };
    const onAbort = () => follower(undefined);
    c.followers.add(follower);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (queue.length && !signal.aborted) yield queue.shift()!;
        if (ended || signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      c.followers.delete(follower);
      signal.removeEventListener('abort', onAbort);
    }
  }

  watch(labels: Record<string, string>, handlers: WatchHandlers): EventSubscription {
    const watcher = { labels: { ...labels }, handlers, open: true };
    this.eventWatchers.add(watcher);
    return {
      close: () => {
        watcher.open = false;
        this.eventWatchers.delete(watcher);
      },
    };
  }

  /** Delivered asynchronously, as from an engine, to the watchers whose labels the container carries. */
  private emit(c: FakeContainer, e: Pick<ContainerEvent, 'kind' | 'exitCode' | 'oomKilled'>): void {
    const event: ContainerEvent = { ...e, containerId: c.id, labels: { ...c.spec.labels }, at: Date.now() };
    for (const w of this.eventWatchers) {
      if (!Object.entries(w.labels).every(([k, v]) => c.spec.labels[k] === v)) continue;
      queueMicrotask(() => {
        if (w.open) w.handlers.onEvent(structuredClone(event));
      });
    }
  }

  /** Simulates a crash: sends `signal` to the running server (exit code 128 + signal number) and waits for its exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.find(id);
    if (!c?.child) throw new Error(`FakeRuntime.kill: container ${id} is not running`);
    c.child.kill(signal);
    await c.exited;
  }

  /** Simulates the kernel's OOM killer: SIGKILL, exit code 137, and inspect reports oomKilled. */
  async simulateOom(id: string): Promise<void> {
    const c = this.find(id);
    if (!c?.child) throw new Error(`FakeRuntime.simulateOom: container ${id} is not running`);
    c.oomKilled = true;
    await this.kill(id, 'SIGKILL');
  }

  /** Someone ran `docker rm -f` outside swapdock: like remove, but not counted in `calls`, and no injected failures. */
  async removeByHand(id: string): Promise<void> {
    await this.forceRemove(id);
  }

  /** Kills every child and forgets all containers (test teardown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((id) => this.remove(id)));
  }
}
