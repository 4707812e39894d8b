// One configured model's live state: status, container, devices, requests in flight, its queue
// and timers. The scheduler makes the decisions; the slot keeps its bookkeeping consistent.
import type { ModelConfig } from '../config/schema.js';
import type { Endpoint } from '../runtime/container-runtime.js';
import type { RunningContainer } from './container-lifecycle.js';
import { recordFailure, recordServed, type FailureRecord } from './crash-backoff.js';
import { canTransition, type ModelStatus } from './model-state.js';
import type { LoadReason } from './scheduler-events.js';
import type { ModelSnapshot, SlotObserver, TransitionDetail } from './slot-view.js';
import { whenCancelled, type Cancellation } from '../util/lazy-abort.js';

export interface Waiter<T> {
  enqueuedAt: number;
  resolve(value: T): void;
  reject(err: Error): void;
}

/** Where a model's container runs: an engine of the pool and GPUs of that engine. */
export interface SlotPlacement {
  engine: string;
  devices: string[];
}

interface QueuedWaiter<T> extends Waiter<T> {
  cleanup(): void;
}

export class ModelSlot<Lease = unknown> {
  status: ModelStatus = 'stopped';
  containerId?: string;
  endpoint?: Endpoint;
  /** The engine its container runs on (config `engines:`), while it holds one. */
  engine?: string;
  /** GPUs (of `engine`) held while starting, loaded or asleep. */
  devices: string[] = [];
  inFlight = 0;
  /**
   * Set when the model must go: for a swap, or an admin unload. It then takes no new requests
   * (they queue) and stops once its requests in flight have finished.
   */
  drainingFor?: 'swap' | 'unload' | 'reload';
  startAbort?: AbortController;
  /** The lifecycle operation (start or stop) in progress, for shutdown to await. */
  operation?: Promise<void>;
  lastUsedAt = 0;
  loadedAt?: number;
  loadDurationMs?: number;
  lastError?: string;
  /** Consecutive failures, for crash-loop backoff. */
  failures?: FailureRecord;
  /** The error of the last crash, for requests that hit the dead container before it was noticed. */
  crash?: { containerId: string; error: Promise<Error> };
  /** The container on which a request lost its connection to the backend: it may have died. */
  connectionLostOn?: string;
  usesGpu: boolean;
  /** A changed config waiting for the running container to stop (hot reload). */
  pendingModel?: ModelConfig;
  /** Why the next load happens, when not for a request (admin, preload); read by the observer. */
  loadCause?: LoadReason;
  /** Asleep since (ms epoch), while sleeping or being woken. */
  sleepingSince?: number;
  /** Being woken: 'starting' with its container kept (no cold start). */
  waking = false;
  /** The sleep call under way (a wake or a stop waits for it). */
  sleepCall?: Promise<void>;
  /** The leases of the requests in flight, revoked on a forced unload or a crash. */
  readonly leases = new Set<{ revoke(reason: Error): void }>();
  private queue: QueuedWaiter<Lease>[] = [];
  private drainWaiters: (() => void)[] = [];
  private idleTimer?: NodeJS.Timeout;
  private sleepTimer?: NodeJS.Timeout;
  private idleTtlMs = 0;

  constructor(
    public model: ModelConfig,
    private readonly observer?: SlotObserver,
    /** The scheduler's clock (ms since the epoch): every time the slot records comes from it. */
    private readonly now: () => number = Date.now,
  ) {
    this.usesGpu = model.gpus !== undefined;
  }

  /** Takes a new config for this model; a running container keeps the old one until it stops. */
  replaceModel(next: ModelConfig): void {
    if (this.status === 'stopped' || this.status === 'failed') {
      this.model = next;
      this.usesGpu = next.gpus !== undefined;
      this.pendingModel = undefined;
      this.failures = undefined;
    } else this.pendingModel = next;
  }

  get id(): string {
    return this.model.id;
  }

  transition(to: ModelStatus, detail: TransitionDetail = {}): void {
    if (!canTransition(this.status, to)) throw new Error(`internal: model '${this.id}' cannot go from ${this.status} to ${to}`);
    const from = this.status;
    this.status = to;
    if (from === 'sleeping' && to !== 'sleeping') this.clearSleepTimer();
    if (to === 'starting') this.waking = from === 'sleeping';
    if (from !== to) this.observer?.transitioned(this, from, to, detail);
  }

  /** The sleep call begins: the model takes no requests until it is woken. */
  beginSleep(detail: TransitionDetail): void {
    this.clearIdleTimer();
    this.sleepingSince = this.now();
    this.transition('sleeping', detail);
  }

  /** A running container found asleep after a restart (adoption). */
  adoptAsleep(container: RunningContainer, placement: SlotPlacement): void {
    this.containerId = container.id;
    this.endpoint = container.endpoint;
    this.engine = placement.engine;
    this.devices = placement.devices;
    this.sleepingSince = this.now();
    this.transition('sleeping', { reason: `adopted the sleeping container of '${this.id}'`, cause: 'adopted' });
  }

  markReady(container: RunningContainer, loadDurationMs: number, detail: TransitionDetail = {}, placement?: SlotPlacement): void {
    if (placement) {
      this.engine = placement.engine;
      this.devices = placement.devices;
    }
    this.waking = false;
    this.sleepingSince = undefined;
    this.containerId = container.id;
    this.endpoint = container.endpoint;
    this.loadedAt = this.now();
    this.loadDurationMs = loadDurationMs;
    this.lastUsedAt = this.now();
    this.lastError = undefined;
    this.transition('ready', { durationMs: loadDurationMs, ...detail });
  }

  markStopped(detail: TransitionDetail = {}): void {
    this.transition('stopped', detail);
    this.clear();
  }

  markFailed(reason: string, detail: TransitionDetail = {}): void {
    this.transition('failed', { reason, ...detail });
    this.lastError = reason;
    this.clear();
  }

  private clear(): void {
    this.waking = false;
    this.sleepingSince = undefined;
    this.clearSleepTimer();
    if (this.pendingModel) this.replaceModel(this.pendingModel);
    this.containerId = undefined;
    this.endpoint = undefined;
    this.engine = undefined;
    this.devices = [];
    this.drainingFor = undefined;
    this.loadedAt = undefined;
  }

  // Bookkeeping the scheduler's parts change only through these methods.

  /** A load (cold, or a wake of the kept container) begins; a cold one where `placement` says. */
  beginLoad(placement: SlotPlacement | undefined, detail: TransitionDetail = {}): void {
    // Before the event, so observers see where it loads.
    if (placement) {
      this.engine = placement.engine;
      this.devices = placement.devices;
    }
    this.transition('starting', detail);
  }

  /** The start, stop or wake under way, for shutdown and later steps to await; returns it. */
  track(operation: Promise<void>): Promise<void> {
    this.operation = operation;
    return operation;
  }

  /** A cold start begins: what cancels it (unload, shutdown). */
  beginStart(): AbortController {
    this.startAbort = new AbortController();
    return this.startAbort;
  }

  endStart(): void {
    this.startAbort = undefined;
  }

  /** The sleep call under way (undefined when it is over). */
  trackSleepCall(call: Promise<void> | undefined): void {
    this.sleepCall = call;
  }

  /** Takes no new requests (they queue) until undrained or stopped. */
  drain(reason: 'swap' | 'unload' | 'reload'): void {
    this.drainingFor = reason;
    this.clearIdleTimer();
  }

  undrain(): void {
    this.drainingFor = undefined;
  }

  /** Why the next load happens when not for a request; `explicit` loads skip crash-loop backoff. */
  setLoadCause(cause: LoadReason | undefined, explicit = false): void {
    this.loadCause = cause;
    if (explicit) this.failures = undefined;
  }

  /** A start failed or the container died, at `now` (after `uptimeMs` when known). */
  recordFailure(now: number, uptimeMs?: number): void {
    this.failures = recordFailure(this.failures, now, uptimeMs);
  }

  /** The crash of `containerId`, described once its cause and logs are read. */
  noteCrash(containerId: string, error: Promise<Error>): void {
    this.crash = { containerId, error };
  }

  /** The last error, once it is known in full (a crash's description). */
  explainError(reason: string): void {
    this.lastError = reason;
  }

  /**
   * How a request on `containerId` ended: a complete answer resets the crash-loop count; a lost
   * connection marks the container suspect. Only about the container the slot still holds.
   */
  recordOutcome(containerId: string, outcome: 'served' | 'broken' | undefined): void {
    if (this.containerId !== containerId) return;
    if (outcome === 'served') this.failures = recordServed(this.failures);
    else if (outcome === 'broken') this.connectionLostOn = containerId;
  }

  /** Ready to take one more request right now, without queueing. */
  canServe(): boolean {
    return this.status === 'ready' && !this.drainingFor && this.inFlight < this.model.maxConcurrent;
  }

  /** Why a request for this model is still waiting, for the queue timeout's message. */
  describeWait(): string {
    if (this.status === 'starting') return 'still loading';
    if (this.status === 'failed' && (this.failures?.consecutive ?? 0) >= 2) return `waiting out its crash-loop backoff after ${this.failures!.consecutive} failures in a row`;
    if (this.status === 'ready') return `busy with ${this.inFlight} request(s) (maxConcurrent ${this.model.maxConcurrent})`;
    return 'waiting for GPUs held by busy models';
  }

  /** Holds resources and may not be evicted: loading, stopping, serving, or owed queued requests. */
  isBusy(): boolean {
    if (this.status === 'starting' || this.status === 'stopping') return true;
    return this.inFlight > 0 || (this.queue.length > 0 && !this.drainingFor);
  }

  beginRequest(): void {
    this.inFlight++;
    this.observer?.countsChanged(this);
  }

  endRequest(): void {
    this.inFlight--;
    this.lastUsedAt = this.now();
    this.observer?.countsChanged(this);
    if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Resolves when no request is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Queues a request. It leaves the queue when granted, when `signal` fires (client gone), or
   * when `timeoutMs` passes, in which case `onTimeout` supplies the error.
   */
  enqueue(waiter: Waiter<Lease>, cancel: Cancellation | undefined, timeoutMs: number, onTimeout: () => Error, onLeave: () => void): void {
    const leave = (err: Error) => {
      if (!this.queue.includes(queued)) return;
      this.queue = this.queue.filter((w) => w !== queued);
      queued.cleanup();
      this.observer?.countsChanged(this);
      waiter.reject(err);
      onLeave();
    };
    const timer = setTimeout(() => leave(onTimeout()), timeoutMs);
    timer.unref();
    const stopListening = cancel && whenCancelled(cancel, (reason) => leave(reason instanceof Error ? reason : new Error('the client went away while waiting')));
    const queued: QueuedWaiter<Lease> = {
      ...waiter,
      cleanup: () => {
        clearTimeout(timer);
        stopListening?.();
      },
    };
    this.queue.push(queued);
    this.observer?.countsChanged(this);
  }

  get queued(): number {
    return this.queue.length;
  }

  hasWaiters(): boolean {
    return this.queue.length > 0;
  }

  oldestEnqueuedAt(): number | undefined {
    return this.queue[0]?.enqueuedAt;
  }

  /** Removes and returns the oldest waiter. */
  dequeue(): Waiter<Lease> | undefined {
    const next = this.queue.shift();
    if (next) {
      next.cleanup();
      this.observer?.countsChanged(this);
    }
    return next;
  }

  rejectWaiters(err: Error): void {
    for (let w = this.dequeue(); w; w = this.dequeue()) w.reject(err);
  }

  /**
   * Calls `onIdle` once the model has had no request in flight for `ttlMs` (0 = never). One timer
   * serves many requests: it is not reset per request but, when it fires, measured against
   * `lastUsedAt` and set again for the rest (a timer per request was a cost on the hot path).
   */
  armIdleTimer(ttlMs: number, onIdle: () => void): void {
    if (this.idleTimer && this.idleTtlMs === ttlMs) return;
    this.clearIdleTimer();
    if (ttlMs <= 0) return;
    this.idleTtlMs = ttlMs;
    this.setIdleTimer(ttlMs, onIdle);
  }

  private setIdleTimer(delayMs: number, onIdle: () => void): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inFlight > 0) return; // busy: its last release arms it again
      const idleFor = this.now() - this.lastUsedAt;
      if (idleFor < this.idleTtlMs) this.setIdleTimer(this.idleTtlMs - idleFor, onIdle);
      else onIdle();
    }, delayMs);
    this.idleTimer.unref();
  }

  clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** sleep.ttl: `onExpiry` once the model has been asleep `ttlMs` (0 = never); cleared when it leaves sleep. */
  armSleepTimer(ttlMs: number, onExpiry: () => void): void {
    this.clearSleepTimer();
    if (ttlMs <= 0) return;
    this.sleepTimer = setTimeout(onExpiry, Math.max(0, ttlMs - (this.now() - (this.sleepingSince ?? this.now()))));
    this.sleepTimer.unref();
  }

  private clearSleepTimer(): void {
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
  }

  snapshot(): ModelSnapshot {
    return {
      id: this.id,
      status: this.status,
      usesGpu: this.usesGpu,
      engine: this.engine,
      devices: [...this.devices],
      vramBytes: this.model.vramBytes,
      inFlight: this.inFlight,
      queued: this.queue.length,
      draining: this.drainingFor !== undefined,
      pinned: this.model.pinned,
      baseline: this.model.baseline,
      containerId: this.containerId,
      lastUsedAt: this.lastUsedAt || undefined,
      loadedAt: this.loadedAt,
      loadDurationMs: this.loadDurationMs,
      lastError: this.lastError,
      sleepingSince: this.sleepingSince,
    };
  }
}
