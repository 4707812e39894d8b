// What the scheduler's parts share: the lease handed to requests, and the context through which
// the lifecycle, the engine watch and config reloads reach the scheduler's state.
import type { Logger } from 'pino';
import type { EngineConfig, ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { ContainerRuntime, Endpoint } from '../runtime/container-runtime.js';
import type { EngineMembers } from './engine-members.js';
import type { GpuBudget } from './gpu-budget.js';
import type { ModelBackend } from './model-backend.js';
import type { ModelSlot } from './model-slot.js';
import type { StateObserver } from './state-observer.js';

export interface Lease {
  readonly model: ModelConfig;
  readonly endpoint: Endpoint;
  readonly containerId: string;
  /** Why the model went away under this request (forced unload, crash); undefined while it serves. */
  readonly revoked: Error | undefined;
  /**
   * The one listener told when the lease is revoked (at once when it already was); a later call
   * replaces it, `undefined` removes it. Released leases are never revoked.
   */
  onRevoke(listener: ((reason: Error) => void) | undefined): void;
  /**
   * Another request on this container had already lost its connection when this lease was
   * granted: the container may have died before the engine reported it (crash-resend.ts).
   */
  readonly grantedAfterFailure: boolean;
  /** Granted to a request that had waited in the model's queue, not as it arrived. */
  readonly fromQueue: boolean;
  /**
   * Ends the request: idempotent. The idle TTL starts when the last lease of a model is released.
   * `served`: the backend answered completely (the model works: its crash-loop count resets);
   * `broken`: the connection to the backend failed (a sign the container may be dead).
   */
  release(outcome?: LeaseOutcome): void;
}

export type LeaseOutcome = 'served' | 'broken';

export type Slot = ModelSlot<Lease>;

export interface SchedulerContext {
  /** The pool's engines: runtimes, GPUs, reachability. */
  readonly engines: EngineMembers;
  /** The runtime of the engine a model's container is on. */
  runtimeOf(engine: string | undefined): ContainerRuntime;
  readonly log: Logger;
  readonly now: () => number;
  /** Starts, stops, sleeps and wakes models (model-backend.ts). */
  readonly backend: ModelBackend;
  readonly slots: Map<string, Slot>;
  /** Events and container log capture (state-observer.ts). */
  readonly observer: StateObserver;
  config(): SwapdockConfig;
  budget(): GpuBudget;
  isShuttingDown(): boolean;
  /** The config of one engine of the pool (network, sleepMemory, …). */
  engineConfig(engine: string): EngineConfig;
  /** Host RAM sleeping models on `engine` may hold in total (its sleepMemory, or its host's memory minus 8g). */
  sleepBudget(engine: string): number;
  /** Re-evaluates queues and loads after any change. */
  schedule(): void;
}
