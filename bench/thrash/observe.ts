// Observation during a thrash run: a FakeRuntime timing engine calls and polling /health; log capture.
import pino from 'pino';
import { Pool } from 'undici';
import type { ContainerInfo, ContainerSpec, PullProgress } from '../../src/runtime/container-runtime.js';
import { LABEL_MODEL } from '../../src/runtime/labels.js';
import { FakeRuntime } from '../../test/support/fake-runtime.js';
import { now, sleep } from './helpers.js';

export interface EngineCall {
  op: 'ensureImage' | 'create' | 'start' | 'stop' | 'remove';
  model: string;
  containerId?: string;
  t0: number;
  t1: number;
}

export interface BackendReady {
  model: string;
  containerId: string;
  /** runtime.start() returned (the process is spawned). */
  startedAt: number;
  /** First 200 from /health seen by the 1 ms poller (undefined: the container went away first). */
  readyAt?: number;
  /** The fake model printed "ready" (its own readiness timer fired): a cross-check. */
  logReadyAt?: number;
  polls: number;
}

/** FakeRuntime with every engine call timed and a 1 ms /health poller on each started container. */
export class TimedRuntime extends FakeRuntime {
  readonly timings: EngineCall[] = [];
  readonly ready: BackendReady[] = [];
  private readonly modelOf = new Map<string, string>();
  private readonly pollers = new Set<Promise<void>>();
  private closed = false;

  private async timed<T>(op: EngineCall['op'], model: string, containerId: string | undefined, fn: () => Promise<T>): Promise<T> {
    const t0 = now();
    try {
      return await fn();
    } finally {
      this.timings.push({ op, model, containerId, t0, t1: now() });
    }
  }

  override ensureImage(spec: ContainerSpec, onProgress?: (p: PullProgress) => void): Promise<void> {
    return this.timed('ensureImage', spec.labels[LABEL_MODEL] ?? spec.name, undefined, () => super.ensureImage(spec, onProgress));
  }

  override create(spec: ContainerSpec): Promise<ContainerInfo> {
    const model = spec.labels[LABEL_MODEL] ?? spec.name;
    return this.timed('create', model, undefined, async () => {
      const info = await super.create(spec);
      this.modelOf.set(info.id, model);
      return info;
    });
  }

  override start(id: string): Promise<ContainerInfo> {
    const model = this.modelOf.get(id) ?? '?';
    return this.timed('start', model, id, async () => {
      const info = await super.start(id);
      const record: BackendReady = { model, containerId: id, startedAt: now(), polls: 0 };
      this.ready.push(record);
      const child = this.containers.get(id)?.child;
      child?.stdout?.on('data', (chunk: string | Buffer) => {
        if (record.logReadyAt === undefined && String(chunk).includes('fake-model: ready')) record.logReadyAt = now();
      });
      if (info.endpoint) {
        const poller = this.pollHealth(`http://${info.endpoint.host}:${info.endpoint.port}`, id, record);
        this.pollers.add(poller);
        void poller.finally(() => this.pollers.delete(poller));
      }
      return info;
    });
  }

  override stop(id: string, timeoutMs: number): Promise<void> {
    return this.timed('stop', this.modelOf.get(id) ?? '?', id, () => super.stop(id, timeoutMs));
  }

  override remove(id: string): Promise<void> {
    return this.timed('remove', this.modelOf.get(id) ?? '?', id, () => super.remove(id));
  }

  /** GET /health every 1 ms (one probe at a time, kept-alive connection) until the first 200. */
  private async pollHealth(origin: string, id: string, record: BackendReady): Promise<void> {
    const pool = new Pool(origin, { connections: 1, pipelining: 1 });
    try {
      while (!this.closed && this.containers.get(id)?.state === 'running') {
        record.polls++;
        try {
          const res = await pool.request({ method: 'GET', path: '/health', headersTimeout: 2000, bodyTimeout: 2000 });
          await res.body.dump();
          if (res.statusCode === 200) {
            record.readyAt = now();
            return;
          }
        } catch {
          // not listening yet
        }
        await sleep(1);
      }
    } finally {
      await pool.destroy().catch(() => {});
    }
  }

  async closePollers(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pollers]);
  }
}

export interface LogEvent {
  time: number;
  msg: string;
  model?: string;
  for?: string;
  evict?: string[];
  inFlight?: number;
}

/** A pino logger whose scheduler lines we keep (request lines are dropped unparsed). */
export function captureLogger(events: LogEvent[]) {
  const wanted = /"msg":"(Draining|Swapping|Starting model|Model ready|Stopping model|Stopped model|Cannot load|Could not|Model '[^']*' failed)/;
  // pino hands each line synchronously to a plain write()-able object; timestamps from our clock.
  const sink = {
    write(line: string) {
      if (wanted.test(line)) events.push(JSON.parse(line) as LogEvent);
    },
  };
  return pino({ level: 'info', timestamp: () => `,"time":${now()}` }, sink);
}
