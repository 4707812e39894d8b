// One configured model's live state: status, container, requests in flight, waiters and timers.
// The scheduler owns the decisions; the slot keeps its bookkeeping consistent.
import type { ModelConfig } from '../config/schema.js';
import type { ContainerSpec, Endpoint } from '../runtime/container-runtime.js';
import type { RunningContainer } from './container-lifecycle.js';
import { Mutex } from './mutex.js';
import { canTransition, type ModelStatus } from './model-state.js';
import type { ModelView } from './swap-policy.js';

export interface ModelSnapshot {
  id: string;
  status: ModelStatus;
  usesGpu: boolean;
  inFlight: number;
  waiting: number;
  containerId?: string;
  lastUsedAt?: number;
  loadDurationMs?: number;
  lastError?: string;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  detach(): void;
}

export class ModelSlot<Lease = any> {
  status: ModelStatus = 'stopped';
  containerId?: string;
  endpoint?: Endpoint;
  inFlight = 0;
  /** Set while a swap waits to stop this model: new requests queue instead of joining it. */
  evicting = false;
  startQueued = false;
  startAbort?: AbortController;
  lastUsedAt?: number;
  loadDurationMs?: number;
  lastError?: string;
  readonly lock = new Mutex();
  readonly usesGpu: boolean;
  private waiters: Waiter<Lease>[] = [];
  private drainWaiters: (() => void)[] = [];
  private idleTimer?: NodeJS.Timeout;

  constructor(
    readonly model: ModelConfig,
    readonly spec: ContainerSpec,
  ) {
    this.usesGpu = model.gpus !== undefined;
  }

  transition(to: ModelStatus): void {
    if (!canTransition(this.status, to)) {
      throw new Error(`internal: model '${this.model.id}' cannot go from ${this.status} to ${to}`);
    }
    this.status = to;
  }

  markReady(container: RunningContainer, loadDurationMs: number): void {
    this.transition('ready');
    this.containerId = container.id;
    this.endpoint = container.endpoint;
    this.loadDurationMs = loadDurationMs;
    this.lastError = undefined;
  }

  markStopped(): void {
    this.transition('stopped');
    this.containerId = undefined;
    this.endpoint = undefined;
  }

  markFailed(reason: string): void {
    this.transition('failed');
    this.lastError = reason;
    this.containerId = undefined;
    this.endpoint = undefined;
  }

  beginRequest(): void {
    this.inFlight++;
    this.clearIdleTimer();
  }

  endRequest(): void {
    this.inFlight--;
    this.lastUsedAt = Date.now();
    if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Resolves when no request is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Queues a request for this model; `undefined` when the signal has already fired. */
  addWaiter(resolve: (lease: Lease) => void, reject: (err: Error) => void, signal?: AbortSignal): Waiter<Lease> | undefined {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return undefined;
    }
    const onAbort = () => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      reject(abortReason(signal!));
    };
    const waiter: Waiter<Lease> = {
      resolve,
      reject,
      detach: () => signal?.removeEventListener('abort', onAbort),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.waiters.push(waiter);
    return waiter;
  }

  hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  takeWaiters(): Waiter<Lease>[] {
    const taken = this.waiters.splice(0);
    for (const waiter of taken) waiter.detach();
    return taken;
  }

  rejectWaiters(err: Error): void {
    for (const waiter of this.takeWaiters()) waiter.reject(err);
  }

  armIdleTimer(onIdle: () => void): void {
    this.clearIdleTimer();
    if (this.model.ttlMs <= 0) return; // ttl 0 = never unload
    this.idleTimer = setTimeout(onIdle, this.model.ttlMs);
    this.idleTimer.unref();
  }

  clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  view(): ModelView {
    return { id: this.model.id, usesGpu: this.usesGpu, status: this.status };
  }

  snapshot(): ModelSnapshot {
    return {
      id: this.model.id,
      status: this.status,
      usesGpu: this.usesGpu,
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      containerId: this.containerId,
      lastUsedAt: this.lastUsedAt,
      loadDurationMs: this.loadDurationMs,
      lastError: this.lastError,
    };
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('request aborted by the client');
}
