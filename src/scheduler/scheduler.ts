// The scheduling machinery. Requests acquire a lease on their model (at once when it is ready
// and under maxConcurrent, else through its bounded queue). `schedule()` serves queues, then asks
// the one pure planning function (schedule-plan.ts) what to do — reject, load or wake with each
// evicted model put to sleep or stopped, drain, look again later, undrain, bring a baseline
// back — and applies its actions: loads through load-starter.ts (GPU loads one at a time),
// through the backend seam (model-backend.ts). Idle models sleep or stop after their TTL.
import { totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { GpuDevice, SwapdockConfig } from '../config/schema.js';
import { EngineDownError, ModelNotFoundError, ModelUnloadedError, ModelUnplaceableError, QueueFullError, QueueTimeoutError, ShuttingDownError, SleepRefusedError, errorMessage } from '../errors.js';
import type { ContainerRuntime, EventSubscription } from '../runtime/container-runtime.js';
import { EngineMembers, type EngineMember, type EngineState } from './engine-members.js';
import { EngineOutages } from './engine-outage.js';
import { noGpuInventory, type GpuInventory } from '../runtime/gpu-inventory.js';
import { applyConfigChanges, type ReloadSummary } from './config-changes.js';
import { BackoffGate } from './backoff-gate.js';
import { EngineWatch } from './engine-watch.js';
import { GpuBudget } from './gpu-budget.js';
import { grantLease } from './lease.js';
import { drainInFlight } from './drain-in-flight.js';
import { ModelLifecycle } from './model-lifecycle.js';
import { ModelSlot } from './model-slot.js';
import { planView, type ModelSnapshot } from './slot-view.js';
import { planSchedule, type PlanAction } from './schedule-plan.js';
import type { Lease, SchedulerContext, Slot } from './scheduler-context.js';
import { SchedulerEvents, type LoadReason } from './scheduler-events.js';
import { StateObserver } from './state-observer.js';
import { TimelineRecorder } from './timeline-recorder.js';
import { defaultSleepMemory } from './sleep-policy.js';
import { LoadStarter } from './load-starter.js';
import { containerBackend, type ModelBackend } from './model-backend.js';
import type { Cancellation } from '../util/lazy-abort.js';

export type { Lease } from './scheduler-context.js';

export interface SchedulerOptions {
  /** The one engine's runtime, when `engines` is not given (the config's first engine). */
  runtime?: ContainerRuntime;
  /** The pool: every engine of the config, with its runtime. */
  engines?: EngineMember[];
  config: SwapdockConfig;
  log: Logger;
  /** With `runtime`: its GPUs to place on; undefined = GPU models are simply exclusive. */
  devices?: GpuDevice[];
  inventory?: GpuInventory;
  now?: () => number;
  events?: SchedulerEvents;
  /** How models are started, stopped, put to sleep and woken; default: containers (containerBackend). */
  backend?: ModelBackend;
  /** With `runtime`: the engine host's memory, for the default engine.sleepMemory; default: this host's. */
  hostMemoryBytes?: number;
  /** How often each engine of a pool is pinged (tests shorten it). */
  engineHeartbeatMs?: number;
}

export class Scheduler {
  private readonly slots = new Map<string, Slot>();
  private budget: GpuBudget;
  private readonly engines: EngineMembers;
  private outages?: EngineOutages;
  private readonly engineHeartbeatMs?: number;
  private config: SwapdockConfig;
  private readonly inventory: GpuInventory;
  private readonly ctx: SchedulerContext;
  private readonly lifecycle: ModelLifecycle;
  private readonly log: Logger;
  private readonly now: () => number;
  private shuttingDown = false;
  private scheduling = false;
  private rescheduleNeeded = false;
  private drainTimer?: NodeJS.Timeout;
  private watch?: EventSubscription;
  private readonly engineWatch: EngineWatch;
  private readonly backoff: BackoffGate;
  private readonly loads: LoadStarter;
  /** Model, queue, load, log, request and swap events; `observer` emits them and keeps each model's output (`observer.logs`). */
  readonly events: SchedulerEvents;
  readonly observer: StateObserver;
  /** What each GPU did over the last hour, and the request rate (GET /api/timeline). */
  readonly timeline: TimelineRecorder;

  constructor(options: SchedulerOptions) {
    this.config = options.config;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.inventory = options.inventory ?? noGpuInventory;
    this.engineHeartbeatMs = options.engineHeartbeatMs;
    if (!options.engines && !options.runtime) throw new Error('internal: a Scheduler needs a runtime or engines');
    this.engines = new EngineMembers(
      options.engines ?? [{ name: options.config.engines[0]!.name, runtime: options.runtime!, gpus: options.devices, localGpus: true, memoryBytes: options.hostMemoryBytes }],
    );
    this.budget = this.gpuBudget(options.config);
    this.events = options.events ?? new SchedulerEvents();
    const runtimeOf = (engine: string | undefined) => this.engines.runtimeOf(engine ?? this.engines.list[0]!.name);
    this.observer = new StateObserver({ events: this.events, runtimeOf, log: this.log, logLines: () => this.config.logs.lines, now: this.now });
    this.timeline = new TimelineRecorder({
      events: this.events,
      now: this.now,
      placementOf: (id) => this.snapshotOf(id),
      gpuIds: () => this.gpuDevices?.map((d) => d.id),
      models: () => this.slots.values(),
    });
    for (const model of options.config.models.values()) this.slots.set(model.id, new ModelSlot<Lease>(model, this.observer, this.now));
    this.ctx = {
      engines: this.engines,
      runtimeOf,
      log: this.log,
      now: this.now,
      backend: options.backend ?? containerBackend,
      slots: this.slots,
      observer: this.observer,
      config: () => this.config,
      budget: () => this.budget,
      isShuttingDown: () => this.shuttingDown,
      engineConfig: (engine) => this.config.engines.find((e) => e.name === engine) ?? this.config.engines[0]!,
      sleepBudget: (engine) => this.ctx.engineConfig(engine).sleepMemory ?? defaultSleepMemory(this.engines.get(engine).memoryBytes ?? totalmem()),
      schedule: () => this.schedule(),
    };
    this.lifecycle = new ModelLifecycle(this.ctx);
    this.engineWatch = new EngineWatch(this.ctx, this.lifecycle);
    this.backoff = new BackoffGate(this.ctx);
    this.loads = new LoadStarter(this.ctx, this.lifecycle, this.events);
  }

  /** Swaps performed (a load that had to evict another model); for metrics and benchmarks. */
  get swapCount(): number {
    return this.loads.swapCount;
  }

  /** The config in force (it changes on reload). */
  get currentConfig(): SwapdockConfig {
    return this.config;
  }

  /**
   * Applies a new, validated config: unchanged models keep running untouched, removed models
   * drain and stop, changed ones are replaced after their requests in flight finish.
   */
  reload(next: SwapdockConfig): ReloadSummary {
    const previous = this.config;
    this.config = next;
    this.budget = this.gpuBudget(next, this.budget);
    const summary = applyConfigChanges(this.ctx, this.lifecycle, previous, next);
    this.schedule();
    return summary;
  }

  /** Each engine's GPUs: at start-up as given; after a reload as the new config lists them, else as they were. */
  private gpuBudget(config: SwapdockConfig, previous?: GpuBudget): GpuBudget {
    const inventoryOf = (m: EngineMember) =>
      previous ? (config.engines.find((e) => e.name === m.name)?.gpus ?? previous.inventoryOf(m.name)) : m.gpus;
    return new GpuBudget(config, this.engines.list.map((m) => ({ name: m.name, inventory: inventoryOf(m), localGpus: m.localGpus ?? false })), this.inventory);
  }

  /** The first engine's GPUs (the only engine's, without a pool). */
  get gpuDevices(): readonly GpuDevice[] | undefined {
    return this.budget.inventoryOf(this.engines.list[0]!.name);
  }

  /** Every engine of the pool: its GPUs, and why it is unreachable (when it is). */
  engineStates(): EngineState[] {
    return this.engines.states((name) => this.budget.inventoryOf(name));
  }

  /**
   * At start-up: adopts running containers of an earlier run whose spec is unchanged (ready at
   * once, TTL restarted) and removes every other container this instance owns.
   */
  async adoptLeftovers(): Promise<void> {
    await this.engineWatch.adoptEverywhere();
  }

  /** Watches the engine's events, loads `preload` models and brings up `baseline` ones; call once after start-up. */
  startBackground(): void {
    if (this.engines.list.length > 1) {
      this.outages = new EngineOutages(this.ctx, this.engineWatch, this.events, this.engineHeartbeatMs);
      this.outages.start();
    } else this.watch = this.engineWatch.watch(this.engines.list[0]!.name);
    for (const slot of this.slots.values()) {
      if (slot.model.preload) {
        this.load(slot.id, undefined, 'preload').catch((err) => this.log.error({ model: slot.id, err: errorMessage(err) }, `Preloading '${slot.id}' failed`));
      }
    }
    this.schedule();
  }

  snapshot(): ModelSnapshot[] {
    return [...this.slots.values()].map((slot) => this.snapshotSlot(slot));
  }

  snapshotOf(modelId: string): ModelSnapshot | undefined {
    const slot = this.slots.get(modelId);
    return slot && this.snapshotSlot(slot);
  }

  /** A model's status alone (no snapshot copy): for lists read on every poll. */
  statusOf(modelId: string): ModelSnapshot['status'] | undefined {
    return this.slots.get(modelId)?.status;
  }

  private snapshotSlot(slot: Slot): ModelSnapshot {
    const snapshot = slot.snapshot();
    snapshot.devices = this.budget.visibleDevices(snapshot.devices);
    return snapshot;
  }

  /**
   * A lease on a ready model: synchronously when it can serve at once (the hot path), else a
   * promise that settles when the request leaves the queue (granted, timed out, client gone).
   */
  acquire(modelId: string, cancel?: Cancellation): Lease | Promise<Lease> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    if (this.shuttingDown) throw new ShuttingDownError();
    if (!slot.hasWaiters() && slot.canServe()) return grantLease(slot, false, this.afterRelease);
    this.backoff.admit(slot);
    if (slot.queued >= slot.model.maxQueue) throw new QueueFullError(modelId, slot.model.maxQueue, 2);
    if (cancel?.aborted) throw cancel.reason instanceof Error ? cancel.reason : new Error('the client went away');
    return new Promise<Lease>((resolve, reject) => {
      const timeout = () => new QueueTimeoutError(modelId, this.config.queue.maxWaitMs, slot.describeWait(), Math.max(5, Math.ceil((slot.loadDurationMs ?? 0) / 1000)));
      slot.enqueue({ enqueuedAt: this.now(), resolve, reject }, cancel, this.config.queue.maxWaitMs, timeout, () => this.schedule());
      // A ready model that is only full (maxConcurrent) changes no decision: a release serves the queue.
      if (slot.status !== 'ready' || slot.drainingFor) this.schedule();
    });
  }

  /**
   * The backend refused or dropped a connection: a container that died shows that before its
   * engine event arrives. Returns the crash error when the container is gone, so the request
   * fails as a crash (503) and not as an unreachable backend.
   */
  async verifyAlive(modelId: string, containerId: string): Promise<Error | undefined> {
    const slot = this.slots.get(modelId);
    if (!slot) return undefined;
    return this.engineWatch.verify(slot, containerId);
  }

  private readonly afterRelease = (slot: Slot): void => {
    if (slot.inFlight === 0) this.lifecycle.armIdleTimer(slot);
    // The hot path: a model that still has requests in flight stays busy, so placement cannot
    // change; only its own queue may move up. Once idle it may be evicted for a waiting model.
    if (slot.drainingFor || (slot.inFlight === 0 && this.anyoneWaiting())) this.schedule();
    else if (slot.hasWaiters()) this.pump(slot);
  };

  private anyoneWaiting(): boolean {
    for (const slot of this.slots.values()) if (slot.hasWaiters()) return true;
    return false;
  }

  /** Hands queued requests to models that can take them. */
  private pump(slot: Slot): void {
    while (slot.hasWaiters() && slot.canServe()) slot.dequeue()!.resolve(grantLease(slot, true, this.afterRelease));
    if (slot.status === 'ready' && slot.inFlight === 0 && !slot.hasWaiters()) this.lifecycle.armIdleTimer(slot);
  }

  /**
   * Re-evaluates everything after any change: serve queues, then pick what to load next. Runs
   * synchronously and only starts asynchronous work, so its decisions see one consistent state.
   */
  schedule(): void {
    if (this.shuttingDown) return;
    if (this.scheduling) {
      this.rescheduleNeeded = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.rescheduleNeeded = false;
        this.scheduleOnce();
      } while (this.rescheduleNeeded);
    } finally {
      this.scheduling = false;
    }
  }

  private scheduleOnce(): void {
    for (const slot of this.slots.values()) this.pump(slot);
    const plan = planSchedule({
      // A model in crash-loop backoff starts when its backoff ends (a timer schedules again then).
      models: [...this.slots.values()].map((slot) => planView(slot, slot.hasWaiters() && this.backoff.deferred(slot))),
      config: this.config,
      gpus: this.budget,
      engines: this.engines.list.map(({ name }) => ({
        name,
        unavailable: this.engines.unavailable(name),
        sleepBudget: this.ctx.sleepBudget(name),
        gpuLoadPending: this.loads.gpuLoadPending.has(name),
      })),
      now: this.now(),
    });
    for (const action of plan) this.apply(action);
  }

  /** Carries out one action of the plan. */
  private apply(action: PlanAction): void {
    const slot = this.slots.get(action.model)!;
    switch (action.kind) {
      case 'reject':
        this.log.warn({ model: slot.id, reason: action.reason }, `Cannot load '${slot.id}': ${action.reason}`);
        if (action.unreachable) {
          const reasons = action.unreachable.map((e) => this.engines.unavailable(e) ?? 'unreachable').join('; ');
          slot.rejectWaiters(new EngineDownError(slot.id, action.unreachable, reasons));
        } else slot.rejectWaiters(new ModelUnplaceableError(slot.id, action.reason));
        return;
      case 'load':
        if (action.baseline) this.log.info({ model: slot.id }, `Bringing baseline model '${slot.id}' back: its GPUs are idle`);
        this.loads.start(slot, action.placement, action.releases);
        return;
      case 'recheck':
        // Look again when the blockers may have gone quiet, or when the wait bound is reached.
        if (!this.drainTimer) {
          this.drainTimer = setTimeout(() => {
            this.drainTimer = undefined;
            this.schedule();
          }, action.inMs);
          this.drainTimer.unref();
        }
        return;
      case 'drain':
        for (const id of action.blockers) {
          const blocker = this.slots.get(id)!;
          blocker.drain('swap');
          this.log.info({ model: id, for: slot.id, inFlight: blocker.inFlight }, `Draining '${id}' for '${slot.id}': ${action.reason}; it finishes ${blocker.inFlight} request(s) in flight first`);
        }
        return;
      case 'undrain':
        slot.undrain();
        this.pump(slot);
        return;
    }
  }

  /** Loads a model without a request (admin API, preload); an explicit load skips crash-loop backoff. */
  async load(modelId: string, signal?: AbortSignal, cause: LoadReason = 'admin'): Promise<void> {
    const slot = this.slots.get(modelId);
    slot?.setLoadCause(cause, true);
    try {
      await Promise.resolve(); // start on the next microtask, so the caller's event listeners see the whole load
      (await this.acquire(modelId, signal)).release();
    } finally {
      slot?.setLoadCause(undefined);
    }
  }

  /**
   * Puts an idle model to sleep now (POST /api/models/{id}/sleep): it must have a sleep kind, be
   * loaded, and have nothing in flight or queued. Without room in engine.sleepMemory (even after
   * stopping older sleepers) it is stopped instead, as when it makes room for another model.
   */
  async sleep(modelId: string): Promise<void> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    if (!slot.model.sleep) throw new SleepRefusedError(modelId, `it has no sleep mode configured (add models.${modelId}.sleep)`, 'model_cannot_sleep');
    if (slot.status === 'starting' || slot.status === 'stopping') await slot.operation;
    if (slot.status === 'sleeping') return slot.sleepCall;
    if (slot.status !== 'ready') throw new SleepRefusedError(modelId, `it is ${slot.status}, not loaded; load it first`, 'model_not_loaded');
    if (slot.inFlight > 0 || slot.hasWaiters()) {
      throw new SleepRefusedError(modelId, `it is busy (${slot.inFlight} request(s) in flight, ${slot.queued} queued); retry when it is idle`, 'model_busy');
    }
    await this.lifecycle.sleeper.release(slot, 'sleep requested', 'admin');
  }

  /** Stops a model: waits for requests in flight, or cuts them with `force`. Queued requests fail. */
  async unload(modelId: string, options: { force?: boolean } = {}): Promise<void> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    slot.rejectWaiters(new ModelUnloadedError(modelId));
    slot.startAbort?.abort(new ModelUnloadedError(modelId));
    if (options.force) for (const lease of slot.leases) lease.revoke(new ModelUnloadedError(modelId));
    await this.lifecycle.drainAndStop(slot, 'unload', options.force ? 'forced unload requested' : 'unload requested', 'admin');
  }

  async unloadAll(options: { force?: boolean } = {}): Promise<void> {
    await Promise.all([...this.slots.keys()].map((id) => this.unload(id, options)));
  }

  /** Stops accepting, lets requests in flight finish (bounded), then stops every managed container. */
  async shutdown(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.backoff.close();
    this.watch?.close();
    this.outages?.close();
    const slots = [...this.slots.values()];
    for (const slot of slots) {
      slot.clearIdleTimer();
      slot.rejectWaiters(new ShuttingDownError());
      slot.startAbort?.abort(new ShuttingDownError());
    }
    await drainInFlight(slots, drainTimeoutMs, this.log);
    this.loads.clear();
    await Promise.allSettled(slots.map((s) => s.operation));
    await Promise.allSettled(slots.map((s) => this.lifecycle.stop(s, 'shutdown', 'shutdown')));
    await this.engineWatch.removeAllOwned().catch((err) =>
      this.log.error({ err: errorMessage(err) }, 'Could not list containers at shutdown; check for leftovers'),
    );
    this.observer.close();
  }
}
