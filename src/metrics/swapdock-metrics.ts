// swapdock's Prometheus metrics (GET /metrics): a per-app prom-client Registry fed by LISTENING to
// the scheduler's events (scheduler-events.ts) — no metric call sits in the scheduler or the proxy.
// Counters and histograms follow `request`, `model` and `swap` events; gauges (queue depth, in
// flight, model state) are read from the scheduler's snapshot at scrape time, so they are exact
// whenever Prometheus looks and cost nothing per request. Names and buckets: metric-definitions.ts.
// A pool of engines adds where each model runs and whether each engine answers (engineGauges).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelSnapshot } from '../scheduler/slot-view.js';
import type { EngineStateEvent, ModelStateEvent, RequestEvent, SchedulerEvents } from '../scheduler/scheduler-events.js';
import {
  LATENCY_BUCKETS,
  LOAD_REASONS,
  METRIC,
  MODEL_STATES,
  TTFT_BUCKETS,
  UNKNOWN_REASON,
  UNLOAD_REASONS,
} from './metric-definitions.js';

/** What the metrics read: the scheduler satisfies it; unit tests pass a SchedulerEvents and a list. */
export interface MetricsSource {
  readonly events: SchedulerEvents;
  snapshot(): ModelSnapshot[];
  /** Every engine of the pool, with why it is unreachable when it is; absent: no engine series. */
  engineStates?(): readonly { name: string; unavailable?: string }[];
}

export interface SwapdockMetricsOptions {
  /** prom-client's process and Node.js metrics (process_*, nodejs_*); default true. */
  processMetrics?: boolean;
}

type Model = 'model';

interface RequestSeries {
  model: string;
  /** By HTTP status. */
  requests: Map<number, { inc(value?: number): void }>;
  duration: { observe(value: number): void };
  ttft: { observe(value: number): void };
  wait: { observe(value: number): void };
  tokensIn: { inc(value?: number): void };
  tokensOut: { inc(value?: number): void };
}

export class SwapdockMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<Model | 'status'>;
  private readonly requestDuration: Histogram<Model>;
  private readonly timeToFirstToken: Histogram<Model>;
  private readonly queueWait: Histogram<Model>;
  private readonly tokens: Counter<Model | 'direction'>;
  private readonly loads: Counter<Model | 'reason'>;
  private readonly unloads: Counter<Model | 'reason'>;
  private readonly loadDuration: Histogram<Model>;
  private readonly failures: Counter<Model>;
  private readonly restarts: Counter<Model>;
  private readonly swaps: Counter;
  private readonly engineOutages: Counter<'engine'>;
  /** Models whose series exist (created at 0 when first seen, so rates start from the beginning). */
  private readonly known = new Set<string>();
  /** Per model: why its load under way started (the `ready` event that ends it carries no cause). */
  private readonly loadCause = new Map<string, string>();
  private readonly unsubscribe: () => void;
  private readonly requestSeries = new Map<string, RequestSeries>();

  constructor(
    private readonly source: MetricsSource,
    options: SwapdockMetricsOptions = {},
  ) {
    const registers = [this.registry];
    this.requests = new Counter({ name: METRIC.requests, help: 'Proxied requests that finished, by model and HTTP status code', labelNames: ['model', 'status'], registers });
    this.requestDuration = new Histogram({ name: METRIC.requestDuration, help: 'Time from a request’s arrival to its last byte sent, queueing and loading included', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    this.timeToFirstToken = new Histogram({ name: METRIC.timeToFirstToken, help: 'Time from a request’s arrival to the first body byte sent to the client (streaming or not)', labelNames: ['model'], buckets: TTFT_BUCKETS, registers });
    this.queueWait = new Histogram({ name: METRIC.queueWait, help: 'Time a request waited for its model (queue plus load) before it was forwarded', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    this.tokens = new Counter({ name: METRIC.tokens, help: 'Tokens from the usage the model reported (streaming included), direction="in" (prompt) or "out" (completion)', labelNames: ['model', 'direction'], registers });
    this.loads = new Counter({ name: METRIC.loads, help: 'Loads that completed (the model became ready), by reason', labelNames: ['model', 'reason'], registers });
    this.unloads = new Counter({ name: METRIC.unloads, help: 'Times a ready model stopped serving (stopped or crashed), by reason', labelNames: ['model', 'reason'], registers });
    this.loadDuration = new Histogram({ name: METRIC.loadDuration, help: 'Time a load took: container create, start and health check', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    this.failures = new Counter({ name: METRIC.failures, help: 'Times a model went to the failed state (a load that failed, or a crash)', labelNames: ['model'], registers });
    this.restarts = new Counter({ name: METRIC.restarts, help: 'Times a model was started again after it had failed (crashed, or a load failed)', labelNames: ['model'], registers });
    this.swaps = new Counter({ name: METRIC.swaps, help: 'Loads that had to evict other models first', registers });
    this.engineOutages = new Counter({ name: METRIC.engineOutages, help: 'Times an engine of the pool became unreachable (its models failed over); only with more than one engine', labelNames: ['engine'], registers });
    this.snapshotGauges();
    this.engineGauges();
    if (options.processMetrics ?? true) {
      // Event loop lag sampled every 100 ms (prom-client's default 10 ms wakes an idle server 100×/s).
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    }
    // The per-model series at 0 are made at the first scrape (render), not here: Prometheus sees
    // the same either way (every configured model's series exists at 0 from its first scrape on),
    // and a swapdock nobody scrapes never builds them (for 500 models about 13 MB of heap, and
    // 28 MB of garbage at start-up that made V8 grow its young generation to the maximum).

    const onRequest = (event: RequestEvent) => this.onRequest(event);
    const onModel = (event: ModelStateEvent) => this.onModel(event);
    const onSwap = () => this.swaps.inc();
    const onEngine = (event: EngineStateEvent) => {
      if (event.state === 'down') this.engineOutages.inc({ engine: event.engine });
    };
    source.events.on('request', onRequest);
    source.events.on('model', onModel);
    source.events.on('swap', onSwap);
    source.events.on('engine', onEngine);
    this.unsubscribe = () => {
      source.events.off('request', onRequest);
      source.events.off('model', onModel);
      source.events.off('swap', onSwap);
      source.events.off('engine', onEngine);
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; series for models added by a reload appear at 0 from here on. */
  async render(): Promise<string> {
    this.syncModels(this.source.snapshot());
    for (const { name } of this.pool()) this.engineOutages.inc({ engine: name }, 0);
    return this.registry.metrics();
  }

  /** Stops listening to the scheduler's events. */
  close(): void {
    this.unsubscribe();
  }

  private onRequest(event: RequestEvent): void {
    const series = this.seriesOf(event.model ?? '');
    let requests = series.requests.get(event.status);
    if (!requests) series.requests.set(event.status, (requests = this.requests.labels(series.model, String(event.status))));
    requests.inc();
    if (!event.model) return; // never reached a model (unknown name, bad body): counted only
    series.duration.observe(event.durationMs / 1000);
    if (event.ttftMs !== undefined) series.ttft.observe(event.ttftMs / 1000);
    if (event.waitMs !== undefined) series.wait.observe(event.waitMs / 1000);
    if (event.tokensIn) series.tokensIn.inc(event.tokensIn);
    if (event.tokensOut) series.tokensOut.inc(event.tokensOut);
  }

  /**
   * The series a request of `model` updates, looked up once per model: prom-client otherwise
   * hashes the label object on every call, a few µs per request on the forwarding path.
   */
  private seriesOf(model: string): RequestSeries {
    let series = this.requestSeries.get(model);
    if (!series) {
      // Its zeroed series first: zeroing later (at a scrape) would wipe what is observed now.
      if (model) this.ensureModel(model);
      series = {
        model,
        requests: new Map(),
        duration: this.requestDuration.labels(model),
        ttft: this.timeToFirstToken.labels(model),
        wait: this.queueWait.labels(model),
        tokensIn: this.tokens.labels(model, 'in'),
        tokensOut: this.tokens.labels(model, 'out'),
      };
      this.requestSeries.set(model, series);
    }
    return series;
  }

  private onModel(event: ModelStateEvent): void {
    const { model, from, to } = event;
    this.ensureModel(model);
    if (to === 'starting') {
      this.loadCause.set(model, event.cause ?? UNKNOWN_REASON);
      if (event.cause === 'restart') this.restarts.inc({ model });
    } else if (to === 'ready') {
      // From 'starting': a load finished; from 'stopped': a running container was adopted.
      const reason = event.cause ?? this.loadCause.get(model) ?? UNKNOWN_REASON;
      this.loads.inc({ model, reason });
      if (from === 'starting' && event.durationMs !== undefined) this.loadDuration.observe({ model }, event.durationMs / 1000);
    }
    if (to !== 'starting') this.loadCause.delete(model);
    // Leaving 'ready' (to stopping, or to failed on a crash) is one unload: loads − unloads = loaded.
    if (from === 'ready' && to !== 'ready') this.unloads.inc({ model, reason: event.cause ?? UNKNOWN_REASON });
    if (to === 'failed') this.failures.inc({ model });
  }

  /** Series at 0 for every configured model, so `rate()` and `increase()` see the first event (called at each scrape). */
  private syncModels(snapshot: ModelSnapshot[]): void {
    for (const { id } of snapshot) this.ensureModel(id);
  }

  private ensureModel(model: string): void {
    if (this.known.has(model)) return;
    this.known.add(model);
    for (const histogram of [this.requestDuration, this.timeToFirstToken, this.queueWait, this.loadDuration]) histogram.zero({ model });
    for (const direction of ['in', 'out']) this.tokens.inc({ model, direction }, 0);
    for (const reason of LOAD_REASONS) this.loads.inc({ model, reason }, 0);
    for (const reason of UNLOAD_REASONS) this.unloads.inc({ model, reason }, 0);
    this.failures.inc({ model }, 0);
    this.restarts.inc({ model }, 0);
  }

  /** The engines of a pool of more than one; none with a single engine (nothing fails over, nothing to report). */
  private pool(): readonly { name: string; unavailable?: string }[] {
    const engines = this.source.engineStates?.() ?? [];
    return engines.length > 1 ? engines : [];
  }

  /**
   * Where each model runs, as an info gauge rather than an `engine` label on the per-model
   * series (the kube_pod_info pattern). A model moves between engines (it fails over, or is
   * placed elsewhere on its next load): an `engine` label on its counters and histograms would
   * split each into one series per engine it ever ran on, leave the old engine's series behind
   * as if it were still there, and end every existing series of a single-engine setup.
   * `swapdock_model_engine{model,engine}` is 1 for the engine a model holds now (starting,
   * ready, sleeping or stopping) and absent while it holds none, read from the snapshot at each
   * scrape, so a model that moved leaves no stale series. Per engine in PromQL:
   *   sum by (engine) (swapdock_requests_in_flight * on (model) group_left (engine) swapdock_model_engine)
   * `swapdock_engine_up{engine}` says whether each engine of a pool answers (1) or is counted as
   * unreachable (0); with one engine it is absent, as swapdock never takes that engine out of
   * service (a broken engine shows as failed loads).
   */
  private engineGauges(): void {
    const registers = [this.registry];
    const source = this.source;
    const pool = () => this.pool();
    new Gauge({
      name: METRIC.modelEngine,
      help: 'The engine the model runs (or sleeps) on: 1 for that engine, no series while it holds none',
      labelNames: ['model', 'engine'],
      registers,
      collect() {
        this.reset(); // a model that moved or stopped leaves no series behind
        for (const m of source.snapshot()) if (m.engine !== undefined) this.set({ model: m.id, engine: m.engine }, 1);
      },
    });
    new Gauge({
      name: METRIC.engineUp,
      help: 'Whether the engine of the pool answers (1) or is unreachable, its models failed over (0); only with more than one engine',
      labelNames: ['engine'],
      registers,
      collect() {
        this.reset();
        for (const e of pool()) this.set({ engine: e.name }, e.unavailable === undefined ? 1 : 0);
      },
    });
  }

  /** Gauges read at scrape time: exact when Prometheus looks, nothing to do per request. */
  private snapshotGauges(): void {
    const registers = [this.registry];
    const source = this.source;
    new Gauge({
      name: METRIC.queueDepth,
      help: 'Requests waiting for the model (queued while it loads, is busy or is swapped in)',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset(); // models removed by a reload disappear
        for (const m of source.snapshot()) this.set({ model: m.id }, m.queued);
      },
    });
    new Gauge({
      name: METRIC.inFlight,
      help: 'Requests being served by the model right now',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const m of source.snapshot()) this.set({ model: m.id }, m.inFlight);
      },
    });
    new Gauge({
      name: METRIC.modelState,
      help: 'The model’s state: 1 for the state it is in, 0 for the others (stopped, starting, ready, stopping, failed)',
      labelNames: ['model', 'state'],
      registers,
      collect() {
        this.reset();
        for (const m of source.snapshot()) for (const state of MODEL_STATES) this.set({ model: m.id, state }, m.status === state ? 1 : 0);
      },
    });
  }
}
