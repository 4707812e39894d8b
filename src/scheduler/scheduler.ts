// The scheduling machinery. Requests acquire a lease on their model (at once when it is ready
// and under maxConcurrent, else through its bounded queue); `schedule()` then decides, with the
// pure policies, what to load next, where, and what to evict; loads of GPU models go through a
// p-queue one at a time; stops run in parallel. Idle models stop after their TTL.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { GpuDevice, ModelConfig, SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError, ModelUnloadedError, ModelUnplaceableError, QueueFullError, QueueTimeoutError, ShuttingDownError, errorMessage } from '../errors.js';
import type { ContainerRuntime, Endpoint } from '../runtime/container-runtime.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { noGpuInventory, type GpuInventory } from '../runtime/gpu-inventory.js';
import { ownershipLabels } from '../runtime/labels.js';
import { short, startModelContainer, stopModelContainer } from './container-lifecycle.js';
import { GpuBudget } from './gpu-budget.js';
import { ModelSlot, type ModelSnapshot } from './model-slot.js';
import { placeModel, type PlacementDecision } from './placement-policy.js';
import { RECENT_USE_MS, drainBlockersAt, orderWaiting, protectsRecentUse } from './queue-policy.js';

export interface Lease {
  readonly model: ModelConfig;
  readonly endpoint: Endpoint;
  /** Fires when an administrator force-unloads the model under this request. */
  readonly signal: AbortSignal;
  /** Ends the request: idempotent. The idle TTL starts when the last lease of a model is released. */
  release(): void;
}

export interface SchedulerOptions {
  runtime: ContainerRuntime;
  config: SwapdockConfig;
  log: Logger;
  /** GPUs to place on; undefined = GPU models are simply exclusive. */
  devices?: GpuDevice[];
  inventory?: GpuInventory;
  now?: () => number;
}

export class Scheduler {
  private readonly slots = new Map<string, ModelSlot<Lease>>();
  /** At most one GPU load in progress, so two GPU-heavy containers never load at once. */
  private readonly gpuLoads = new PQueue({ concurrency: 1 });
  private gpuLoadPending = false;
  private readonly budget: GpuBudget;
  private readonly runtime: ContainerRuntime;
  private readonly config: SwapdockConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private shuttingDown = false;
  private scheduling = false;
  private rescheduleNeeded = false;
  private drainTimer?: NodeJS.Timeout;
  /** Swaps performed (a load that had to evict another model); for metrics and benchmarks. */
  swapCount = 0;

  constructor(options: SchedulerOptions) {
    this.runtime = options.runtime;
    this.config = options.config;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.budget = new GpuBudget(options.config, options.devices, options.inventory ?? noGpuInventory);
    for (const model of options.config.models.values()) this.slots.set(model.id, new ModelSlot<Lease>(model));
  }

  get gpuDevices(): readonly GpuDevice[] | undefined {
    return this.budget.inventory;
  }

  /** Removes containers a previous run of this instance left behind. */
  async removeLeftovers(): Promise<number> {
    const leftovers = await this.runtime.list(ownershipLabels(this.config.instance));
    await Promise.all(leftovers.map((c) => this.runtime.stop(c.id, 5000).then(() => this.runtime.remove(c.id))));
    if (leftovers.length) this.log.info({ count: leftovers.length }, `Removed ${leftovers.length} container(s) left over from an earlier run`);
    return leftovers.length;
  }

  /** Loads `preload` models and brings up `baseline` ones; call once after start-up. */
  startBackground(): void {
    for (const slot of this.slots.values()) {
      if (slot.model.preload) {
        this.load(slot.id).catch((err) => this.log.error({ model: slot.id, err: errorMessage(err) }, `Preloading '${slot.id}' failed`));
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

  private snapshotSlot(slot: ModelSlot<Lease>): ModelSnapshot {
    const snapshot = slot.snapshot();
    snapshot.devices = this.budget.visibleDevices(snapshot.devices);
    return snapshot;
  }

  /**
   * A lease on a ready model: synchronously when it can serve at once (the hot path), else a
   * promise that settles when the request leaves the queue (granted, timed out, client gone).
   */
  acquire(modelId: string, signal?: AbortSignal): Lease | Promise<Lease> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    if (this.shuttingDown) throw new ShuttingDownError();
    if (!slot.hasWaiters() && slot.canServe()) return this.grant(slot);
    if (slot.queued >= slot.model.maxQueue) throw new QueueFullError(modelId, slot.model.maxQueue, 2);
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the client went away');
    return new Promise<Lease>((resolve, reject) => {
      const timeout = () => new QueueTimeoutError(modelId, this.config.queue.maxWaitMs, describeWait(slot), Math.max(5, Math.ceil((slot.loadDurationMs ?? 0) / 1000)));
      slot.enqueue({ enqueuedAt: this.now(), resolve, reject }, signal, this.config.queue.maxWaitMs, timeout, () => this.schedule());
      this.schedule();
    });
  }

  private grant(slot: ModelSlot<Lease>): Lease {
    slot.beginRequest();
    const abort = new AbortController();
    slot.leaseAborts.add(abort);
    let released = false;
    return {
      model: slot.model,
      endpoint: slot.endpoint!,
      signal: abort.signal,
      release: () => {
        if (released) return;
        released = true;
        slot.leaseAborts.delete(abort);
        slot.endRequest();
        if (slot.inFlight === 0) this.armIdleTimer(slot);
        this.schedule();
      },
    };
  }

  /** Hands queued requests to models that can take them. */
  private pump(slot: ModelSlot<Lease>): void {
    while (slot.hasWaiters() && slot.canServe()) slot.dequeue()!.resolve(this.grant(slot));
    if (slot.status === 'ready' && slot.inFlight === 0 && !slot.hasWaiters()) this.armIdleTimer(slot);
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
    const waiting = orderWaiting(
      [...this.slots.values()]
        .filter((s) => s.hasWaiters() && (s.status === 'stopped' || s.status === 'failed'))
        .map((s) => ({ id: s.id, oldestEnqueuedAt: s.oldestEnqueuedAt()!, slot: s })),
    );
    let gpuHeadBlocked = false;
    for (const { slot, oldestEnqueuedAt } of waiting) {
      if (slot.usesGpu && (this.gpuLoadPending || gpuHeadBlocked)) continue;
      const decision = this.place(slot, oldestEnqueuedAt);
      if (decision.kind === 'impossible') {
        this.log.warn({ model: slot.id, reason: decision.reason }, `Cannot load '${slot.id}': ${decision.reason}`);
        slot.rejectWaiters(new ModelUnplaceableError(slot.id, decision.reason));
      } else if (decision.kind === 'place') {
        this.startLoad(slot, decision);
      } else {
        if (slot.usesGpu) gpuHeadBlocked = true;
        this.drainBlockersWhenDue(slot, decision, oldestEnqueuedAt);
      }
    }
    if (waiting.length === 0) {
      // Nobody waits for a swap any more (served, timed out or gone): drained models serve again.
      for (const slot of this.slots.values()) {
        if (slot.drainingFor === 'swap' && slot.status === 'ready') {
          slot.drainingFor = undefined;
          this.pump(slot);
        }
      }
      if (!this.gpuLoadPending) this.restoreBaselines();
    }
  }

  /** `waitingSince`: the target's oldest request, when one waits (baselines have none). */
  private place(slot: ModelSlot<Lease>, waitingSince?: number): PlacementDecision {
    const now = this.now();
    const protectRecent =
      waitingSince !== undefined && protectsRecentUse(this.config.swap.policy, { id: slot.id, oldestEnqueuedAt: waitingSince }, now, this.config.swap.maxWaitMs);
    const residents = [...this.slots.values()]
      .filter((s) => s !== slot && (s.status === 'starting' || s.status === 'ready' || s.status === 'stopping'))
      .map((s) => ({
        id: s.id,
        devices: s.devices,
        vramBytes: this.budget.vramOf(s.model),
        busy: s.isBusy() || (protectRecent && !s.drainingFor && now - s.lastUsedAt < RECENT_USE_MS),
        pinned: s.model.pinned,
        lastUsedAt: s.lastUsedAt,
      }));
    return placeModel(
      { id: slot.id, gpu: this.budget.demandOf(slot.model), conflicts: this.budget.conflictsOf(slot.id) },
      { devices: this.budget.placementDevices, residents, maxLoaded: this.config.maxLoaded },
    );
  }

  /** Busy models in the way stop taking requests when the swap policy says it is time. */
  private drainBlockersWhenDue(slot: ModelSlot<Lease>, decision: Extract<PlacementDecision, { kind: 'wait' }>, oldestEnqueuedAt: number): void {
    const dueAt = drainBlockersAt(this.config.swap.policy, { id: slot.id, oldestEnqueuedAt }, this.config.swap.maxWaitMs);
    if (dueAt > this.now()) {
      // Look again when the blockers may have gone quiet, or when the wait bound is reached.
      if (!this.drainTimer) {
        this.drainTimer = setTimeout(() => {
          this.drainTimer = undefined;
          this.schedule();
        }, Math.min(dueAt - this.now(), RECENT_USE_MS));
        this.drainTimer.unref();
      }
      return;
    }
    for (const id of decision.blockedBy) {
      const blocker = this.slots.get(id)!;
      if (blocker.status !== 'ready' || blocker.drainingFor) continue;
      blocker.drainingFor = 'swap';
      blocker.clearIdleTimer();
      this.log.info({ model: id, for: slot.id, inFlight: blocker.inFlight }, `Draining '${id}' for '${slot.id}': ${decision.reason}; it finishes ${blocker.inFlight} request(s) in flight first`);
    }
  }

  private startLoad(slot: ModelSlot<Lease>, decision: Extract<PlacementDecision, { kind: 'place' }>): void {
    const evicted = decision.evict.map((id) => this.slots.get(id)!);
    if (evicted.length) {
      this.swapCount++;
      this.log.info({ model: slot.id, evict: decision.evict, devices: decision.devices }, `Swapping: ${decision.reason}`);
    }
    slot.transition('starting');
    slot.devices = decision.devices;
    const stops = evicted.map((victim) => this.stop(victim, `evicted for '${slot.id}'`));
    const run = async () => {
      await Promise.allSettled(stops);
      await this.budget.waitUntilFree(slot.devices, this.budget.vramOf(slot.model), this.log);
      await this.startContainer(slot);
    };
    if (slot.usesGpu) {
      this.gpuLoadPending = true;
      slot.operation = this.gpuLoads.add(run).finally(() => {
        this.gpuLoadPending = false;
        this.schedule();
      });
    } else {
      slot.operation = run().finally(() => this.schedule());
    }
  }

  private async startContainer(slot: ModelSlot<Lease>): Promise<void> {
    const log = this.log.child({ model: slot.id });
    const spec = buildContainerSpec(slot.model, { instance: this.config.instance, network: this.config.engine.network }, this.budget.inventory ? slot.devices : undefined);
    const shown = this.budget.visibleDevices(slot.devices);
    log.info({ image: spec.image, devices: shown }, `Starting model '${slot.id}'${shown.length ? ` on GPU ${shown.join(', ')}` : ''}`);
    const startedAt = this.now();
    slot.startAbort = new AbortController();
    try {
      if (this.shuttingDown) throw new ShuttingDownError();
      const container = await startModelContainer({ runtime: this.runtime, model: slot.model, spec, log, signal: slot.startAbort.signal });
      slot.markReady(container, this.now() - startedAt);
    } catch (err) {
      slot.markFailed(errorMessage(err));
      log.error({ err: errorMessage(err) }, `Model '${slot.id}' failed to start`);
      slot.rejectWaiters(err as Error);
    } finally {
      slot.startAbort = undefined;
    }
  }

  /** Stops a model that is ready and has nothing in flight (callers make sure of that). */
  private stop(slot: ModelSlot<Lease>, reason: string): Promise<void> {
    if (slot.status !== 'ready') return slot.operation ?? Promise.resolve();
    const containerId = slot.containerId!;
    const log = this.log.child({ model: slot.id, containerId: short(containerId) });
    log.info({ reason }, `Stopping model '${slot.id}' (${reason})`);
    slot.transition('stopping');
    slot.clearIdleTimer();
    const startedAt = this.now();
    slot.operation = stopModelContainer(this.runtime, containerId, slot.model.stopTimeoutMs).then(
      () => {
        slot.markStopped();
        log.info({ durationMs: this.now() - startedAt }, `Stopped model '${slot.id}' in ${this.now() - startedAt} ms`);
      },
      (err) => {
        slot.markFailed(errorMessage(err));
        log.error({ err: errorMessage(err) }, `Could not stop model '${slot.id}'; check the engine`);
      },
    ).finally(() => this.schedule());
    return slot.operation;
  }

  private armIdleTimer(slot: ModelSlot<Lease>): void {
    if (slot.model.baseline || slot.status !== 'ready') return; // baselines stay until something needs their GPUs
    slot.armIdleTimer(slot.model.ttlMs, () => {
      if (slot.inFlight > 0 || slot.hasWaiters() || slot.status !== 'ready') return;
      void this.stop(slot, `idle for ${Math.round(slot.model.ttlMs / 1000)} s`);
    });
  }

  /** Baseline models come back whenever they fit without evicting anything. */
  private restoreBaselines(): void {
    for (const slot of this.slots.values()) {
      if (!slot.model.baseline || (slot.status !== 'stopped' && slot.status !== 'failed') || slot.lastError) continue;
      if (slot.usesGpu && this.gpuLoadPending) continue;
      const decision = this.place(slot);
      if (decision.kind === 'place' && decision.evict.length === 0) {
        this.log.info({ model: slot.id }, `Bringing baseline model '${slot.id}' back: its GPUs are idle`);
        this.startLoad(slot, decision);
      }
    }
  }

  /** Loads a model without a request (admin API, preload). */
  async load(modelId: string, signal?: AbortSignal): Promise<void> {
    (await this.acquire(modelId, signal)).release();
  }

  /** Stops a model: waits for requests in flight, or cuts them with `force`. Queued requests fail. */
  async unload(modelId: string, options: { force?: boolean } = {}): Promise<void> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    slot.rejectWaiters(new ModelUnloadedError(modelId));
    slot.startAbort?.abort(new ModelUnloadedError(modelId));
    if (slot.status === 'starting' || slot.status === 'stopping') await slot.operation;
    if (slot.status !== 'ready') return;
    slot.drainingFor = 'unload';
    if (options.force) for (const abort of slot.leaseAborts) abort.abort(new ModelUnloadedError(modelId));
    await slot.drained();
    await this.stop(slot, options.force ? 'forced unload requested' : 'unload requested');
  }

  async unloadAll(options: { force?: boolean } = {}): Promise<void> {
    await Promise.all([...this.slots.keys()].map((id) => this.unload(id, options)));
  }

  /** Stops accepting, lets requests in flight finish (bounded), then stops every managed container. */
  async shutdown(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    const slots = [...this.slots.values()];
    for (const slot of slots) {
      slot.clearIdleTimer();
      slot.rejectWaiters(new ShuttingDownError());
      slot.startAbort?.abort(new ShuttingDownError());
    }
    const busy = slots.filter((s) => s.inFlight > 0);
    if (busy.length) {
      this.log.info({ models: busy.map((s) => s.id) }, `Waiting up to ${drainTimeoutMs / 1000} s for requests in flight`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)));
      await Promise.race([Promise.all(busy.map((s) => s.drained())), timeout]);
      clearTimeout(timer);
    }
    this.gpuLoads.clear();
    await Promise.allSettled(slots.map((s) => s.operation));
    await Promise.allSettled(slots.map((s) => this.stop(s, 'shutdown')));
    await this.removeLeftovers().catch((err) =>
      this.log.error({ err: errorMessage(err) }, 'Could not list containers at shutdown; check for leftovers'),
    );
  }
}

function describeWait(slot: ModelSlot<unknown>): string {
  if (slot.status === 'starting') return 'still loading';
  if (slot.status === 'ready') return `busy with ${slot.inFlight} request(s) (maxConcurrent ${slot.model.maxConcurrent})`;
  return 'waiting for GPUs held by busy models';
}
