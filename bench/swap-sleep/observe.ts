// Observation for bench:swap, all on one clock (now()); none of it changes what swapdock does:
//   - engine calls of the FakeRuntime (stop/remove/ensureImage/create/start), timed, and when each
//     fake model's process printed "listening on" (the end of its cold load, FAKE_LISTEN_DELAY_MS);
//   - the sleep clients' HTTP calls (/sleep, /wake_up, /collective_rpc, /is_sleeping, …): every
//     sleep operation makes its own undici Client (src/scheduler/backends/sleep-operation.ts), so
//     Client.prototype.request is wrapped to time each call, sent → answer headers;
//   - the readiness probes: waitForReady uses undici's `request` with the global dispatcher, so an
//     Agent that notes each dispatch is installed as the global dispatcher;
//   - scheduler log lines (Swapping, Putting … to sleep, Waking, …), timestamped by our pino logger.
import pino from 'pino';
import { Agent, Client, setGlobalDispatcher, type Dispatcher } from 'undici';
import type { ContainerInfo, ContainerSpec, PullProgress } from '../../src/runtime/container-runtime.js';
import { LABEL_MODEL } from '../../src/runtime/labels.js';
import { FakeRuntime } from '../../test/support/fake-runtime.js';
import { now } from '../thrash/helpers.js';

export interface EngineCall {
  op: 'ensureImage' | 'create' | 'start' | 'stop' | 'remove';
  model: string;
  t0: number;
  t1: number;
}

export interface Boot {
  model: string;
  port?: number;
  /** runtime.start() returned (process spawned). */
  startedAt: number;
  /** The fake model printed "listening on" (its cold load is over). */
  listeningAt?: number;
}

export interface HttpCall {
  /** Model whose backend was called (by port), '?' when unknown. */
  model: string;
  method: string;
  path: string;
  t0: number;
  t1?: number;
  status?: number;
}

export interface LogEvent {
  time: number;
  msg: string;
  model?: string;
  durationMs?: number;
}

/** FakeRuntime with engine calls timed and each process's "listening" line noted. */
export class ObservedRuntime extends FakeRuntime {
  readonly engineCalls: EngineCall[] = [];
  readonly boots: Boot[] = [];
  readonly modelOfPort = new Map<number, string>();
  private readonly modelOf = new Map<string, string>();

  private async timed<T>(op: EngineCall['op'], model: string, fn: () => Promise<T>): Promise<T> {
    const t0 = now();
    try {
      return await fn();
    } finally {
      this.engineCalls.push({ op, model, t0, t1: now() });
    }
  }

  override ensureImage(spec: ContainerSpec, onProgress?: (p: PullProgress) => void): Promise<void> {
    return this.timed('ensureImage', spec.labels[LABEL_MODEL] ?? spec.name, () => super.ensureImage(spec, onProgress));
  }

  override create(spec: ContainerSpec): Promise<ContainerInfo> {
    const model = spec.labels[LABEL_MODEL] ?? spec.name;
    return this.timed('create', model, async () => {
      const info = await super.create(spec);
      this.modelOf.set(info.id, model);
      return info;
    });
  }

  override start(id: string): Promise<ContainerInfo> {
    const model = this.modelOf.get(id) ?? '?';
    return this.timed('start', model, async () => {
      const info = await super.start(id);
      const boot: Boot = { model, port: info.endpoint?.port, startedAt: now() };
      this.boots.push(boot);
      if (info.endpoint) this.modelOfPort.set(info.endpoint.port, model);
      this.containers.get(id)?.child?.stdout?.on('data', (chunk: string | Buffer) => {
        if (boot.listeningAt === undefined && String(chunk).includes('fake-model: listening on')) boot.listeningAt = now();
      });
      return info;
    });
  }

  override stop(id: string, timeoutMs: number): Promise<void> {
    return this.timed('stop', this.modelOf.get(id) ?? '?', () => super.stop(id, timeoutMs));
  }

  override remove(id: string): Promise<void> {
    return this.timed('remove', this.modelOf.get(id) ?? '?', () => super.remove(id));
  }
}

const portOf = (origin: string | URL | undefined): number | undefined => {
  if (!origin) return undefined;
  const port = Number(new URL(String(origin)).port);
  return Number.isFinite(port) && port > 0 ? port : undefined;
};

/**
 * Installs the HTTP observers (once per process): the sleep clients' calls and the readiness
 * probes land in `sink.controlCalls` / `sink.probes`; `sink.modelOfPort` names the backend.
 */
export function observeHttp(sink: { controlCalls: HttpCall[]; probes: HttpCall[]; modelOfPort: () => Map<number, string> }): void {
  const urlSymbol = Object.getOwnPropertySymbols(new Client('http://127.0.0.1:9')).find((s) => s.description === 'url');
  const original = Client.prototype.request;
  type RequestFn = (this: Client, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  const wrapped: RequestFn = function (opts) {
    const origin = urlSymbol ? (this as unknown as Record<symbol, URL>)[urlSymbol] : undefined;
    const port = portOf(origin);
    const call: HttpCall = { model: (port && sink.modelOfPort().get(port)) || '?', method: String(opts.method), path: opts.path, t0: now() };
    sink.controlCalls.push(call);
    return (original as unknown as RequestFn).call(this, opts).then(
      (res) => ((call.t1 = now()), (call.status = res.statusCode), res),
      (err: unknown) => {
        call.t1 = now();
        throw err;
      },
    );
  };
  (Client.prototype as unknown as { request: RequestFn }).request = wrapped;

  class ProbeAgent extends Agent {
    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const port = portOf(opts.origin);
      sink.probes.push({ model: (port && sink.modelOfPort().get(port)) || '?', method: String(opts.method), path: opts.path, t0: now() });
      return super.dispatch(opts, handler);
    }
  }
  setGlobalDispatcher(new ProbeAgent());
}

/** A pino logger whose scheduler lines we keep, stamped with now(). */
export function captureLogger(events: LogEvent[]) {
  const wanted = /"msg":"(Swapping|Draining|Starting model|Container started|Model ready|Stopping model|Stopped model|Putting '|'[^']*' is asleep|Waking '|'[^']*' is awake|Stopping '|Waking '[^']*' failed|Cannot load|Could not|Model '[^']*' failed)/;
  const sink = {
    write(line: string) {
      if (wanted.test(line)) events.push(JSON.parse(line) as LogEvent);
    },
  };
  return pino({ level: 'info', timestamp: () => `,"time":${now()}` }, sink);
}
