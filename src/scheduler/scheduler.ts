// The scheduling machinery: makes a model ready for a request (single-flight starts), counts
// requests in flight, swaps GPU models one at a time through a p-queue, and stops idle models
// after their TTL. Policy (what to evict) comes from swap-policy.ts; this file only applies it.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError, ShuttingDownError, errorMessage } from '../errors.js';
import type { ContainerRuntime, Endpoint } from '../runtime/container-runtime.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { ownershipLabels } from '../runtime/labels.js';
import { short, startModelContainer, stopModelContainer } from './container-lifecycle.js';
import { ModelSlot, type ModelSnapshot } from './model-slot.js';
import { evictionFor } from './swap-policy.js';

export interface Lease {
  readonly model: ModelConfig;
  readonly endpoint: Endpoint;
  /** Ends the request: idempotent. The idle TTL starts when the last lease of a model is released. */
  release(): void;
}

export interface SchedulerOptions {
  runtime: ContainerRuntime;
  config: SwapdockConfig;
  log: Logger;
}

export class Scheduler {
  private readonly slots = new Map<string, ModelSlot>();
  /** Serializes GPU loads and their evictions so two GPU-heavy containers never load at once. */
  private readonly gpuQueue = new PQueue({ concurrency: 1 });
  private readonly runtime: ContainerRuntime;
  private readonly log: Logger;
  private readonly instance: string;
  private shuttingDown = false;

  constructor({ runtime, config, log }: SchedulerOptions) {
    this.runtime = runtime;
    this.log = log;
    this.instance = config.instance;
    for (const model of config.models.values()) {
      const spec = buildContainerSpec(model, { instance: config.instance, network: config.engine.network });
      this.slots.set(model.id, new ModelSlot(model, spec));
    }
  }

  /** Removes containers a previous run of this instance left behind. */
  async removeLeftovers(): Promise<number> {
    const leftovers = await this.runtime.list(ownershipLabels(this.instance));
    await Promise.all(leftovers.map((c) => this.runtime.stop(c.id, 5000).then(() => this.runtime.remove(c.id))));
    if (leftovers.length) this.log.info({ count: leftovers.length }, `Removed ${leftovers.length} container(s) left over from an earlier run`);
    return leftovers.length;
  }

  snapshot(): ModelSnapshot[] {
    return [...this.slots.values()].map((slot) => slot.snapshot());
  }

  snapshotOf(modelId: string): ModelSnapshot | undefined {
    return this.slots.get(modelId)?.snapshot();
  }

  /**
   * Resolves once the model is ready, with a lease that holds it loaded until released.
   * Callers never check state first: this joins a start in progress, starts it, or waits.
   */
  acquire(modelId: string, signal?: AbortSignal): Promise<Lease> {
    const slot = this.slots.get(modelId);
    if (!slot) return Promise.reject(new ModelNotFoundError(modelId, [...this.slots.keys()]));
    if (this.shuttingDown) return Promise.reject(new ShuttingDownError());
    if (slot.status === 'ready' && !slot.evicting) return Promise.resolve(this.grant(slot));
    return new Promise<Lease>((resolve, reject) => {
      const waiter = slot.addWaiter(resolve, reject, signal);
      if (waiter) this.ensureStartQueued(slot);
    });
  }

  private grant(slot: ModelSlot): Lease {
    slot.beginRequest();
    let released = false;
    return {
      model: slot.model,
      endpoint: slot.endpoint!,
      release: () => {
        if (released) return;
        released = true;
        slot.endRequest();
        if (slot.inFlight === 0 && !slot.evicting && !this.shuttingDown) this.armIdleTimer(slot);
      },
    };
  }

  private ensureStartQueued(slot: ModelSlot): void {
    if (slot.startQueued) return;
    slot.startQueued = true;
    const run = () => this.runStart(slot).finally(() => (slot.startQueued = false));
    const task = slot.usesGpu ? this.gpuQueue.add(run) : run();
    task.catch((err) => this.log.error({ model: slot.model.id, err: errorMessage(err) }, 'Start task failed unexpectedly'));
  }

  /** Runs inside the GPU queue for GPU models: evict, start, then hand leases to every waiter at once. */
  private async runStart(slot: ModelSlot): Promise<void> {
    if (!slot.hasWaiters()) return; // everyone who asked has gone: do not load for nobody
    if (slot.status === 'ready' && !slot.evicting) return this.grantWaiters(slot);
    const decision = evictionFor(slot.view(), [...this.slots.values()].map((s) => s.view()));
    if (decision.evict.length) {
      this.log.info({ model: slot.model.id, evict: decision.evict }, `Swapping: ${decision.reason}`);
      await Promise.all(decision.evict.map((id) => this.evict(this.slots.get(id)!, `swap for '${slot.model.id}'`)));
    }
    try {
      await slot.lock.run(() => this.startLocked(slot));
      this.grantWaiters(slot);
    } catch (err) {
      slot.rejectWaiters(err as Error);
    }
  }

  private grantWaiters(slot: ModelSlot): void {
    // Synchronous on purpose: leases exist before any later swap task can see the model idle.
    for (const waiter of slot.takeWaiters()) waiter.resolve(this.grant(slot));
    if (slot.inFlight === 0) this.armIdleTimer(slot);
  }

  private async startLocked(slot: ModelSlot): Promise<void> {
    if (slot.status === 'ready') return;
    if (this.shuttingDown) throw new ShuttingDownError();
    const log = this.log.child({ model: slot.model.id });
    log.info({ image: slot.spec.image, gpus: slot.model.gpus }, `Starting model '${slot.model.id}'`);
    slot.transition('starting');
    const startedAt = Date.now();
    slot.startAbort = new AbortController();
    try {
      const container = await startModelContainer({
        runtime: this.runtime,
        model: slot.model,
        spec: slot.spec,
        log,
        signal: slot.startAbort.signal,
      });
      slot.markReady(container, Date.now() - startedAt);
    } catch (err) {
      slot.markFailed(errorMessage(err));
      log.error({ err: errorMessage(err) }, `Model '${slot.model.id}' failed to start`);
      throw err;
    } finally {
      slot.startAbort = undefined;
    }
  }

  /** Stops a model once its requests in flight have finished; new requests for it wait meanwhile. */
  private async evict(slot: ModelSlot, reason: string): Promise<void> {
    slot.evicting = true;
    slot.clearIdleTimer();
    try {
      if (slot.inFlight > 0) {
        this.log.info({ model: slot.model.id, inFlight: slot.inFlight }, `Waiting for ${slot.inFlight} request(s) to finish before stopping '${slot.model.id}'`);
        await slot.drained();
      }
      await slot.lock.run(() => this.stopLocked(slot, reason));
    } finally {
      slot.evicting = false;
    }
  }

  private async stopLocked(slot: ModelSlot, reason: string): Promise<void> {
    const containerId = slot.containerId;
    if (!containerId || slot.status === 'stopped') return;
    const log = this.log.child({ model: slot.model.id, containerId: short(containerId) });
    log.info({ reason }, `Stopping model '${slot.model.id}' (${reason})`);
    slot.transition('stopping');
    const startedAt = Date.now();
    try {
      await stopModelContainer(this.runtime, containerId, slot.model.stopTimeoutMs);
      slot.markStopped();
      log.info({ durationMs: Date.now() - startedAt }, `Stopped model '${slot.model.id}' in ${Date.now() - startedAt} ms`);
    } catch (err) {
      slot.markFailed(errorMessage(err));
      log.error({ err: errorMessage(err) }, `Could not stop model '${slot.model.id}'; check the engine`);
      throw err;
    }
  }

  private armIdleTimer(slot: ModelSlot): void {
    slot.armIdleTimer(() => {
      if (slot.inFlight > 0 || slot.hasWaiters() || slot.evicting || slot.status !== 'ready') return;
      const stop = () => slot.lock.run(() => this.stopLocked(slot, `idle for ${slot.model.ttlMs / 1000} s`));
      const task = slot.usesGpu ? this.gpuQueue.add(stop) : stop();
      task.catch(() => undefined); // already logged by stopLocked
    });
  }

  /** Loads a model without a request (admin, preload). */
  async load(modelId: string, signal?: AbortSignal): Promise<void> {
    (await this.acquire(modelId, signal)).release();
  }

  async unload(modelId: string): Promise<void> {
    const slot = this.slots.get(modelId);
    if (!slot) throw new ModelNotFoundError(modelId, [...this.slots.keys()]);
    await this.evict(slot, 'unload requested');
  }

  /** Stops accepting, lets requests in flight finish (bounded), then stops every managed container. */
  async shutdown(drainTimeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    const slots = [...this.slots.values()];
    for (const slot of slots) {
      slot.clearIdleTimer();
      slot.rejectWaiters(new ShuttingDownError());
      slot.startAbort?.abort(new ShuttingDownError());
    }
    const busy = slots.filter((s) => s.inFlight > 0);
    if (busy.length) {
      this.log.info({ models: busy.map((s) => s.model.id) }, `Waiting up to ${drainTimeoutMs / 1000} s for requests in flight`);
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, drainTimeoutMs).unref());
      await Promise.race([Promise.all(busy.map((s) => s.drained())), timeout]);
    }
    this.gpuQueue.clear();
    await Promise.allSettled(slots.map((slot) => slot.lock.run(() => this.stopLocked(slot, 'shutdown'))));
    await this.removeLeftovers().catch((err) =>
      this.log.error({ err: errorMessage(err) }, 'Could not list containers at shutdown; check for leftovers'),
    );
  }
}
