// What others see of a model's slot (model-slot.ts): the snapshot the API, metrics and UI read,
// and the contract of the observer told of every change (state-observer.ts).
import type { ModelStatus } from './model-state.js';
import type { ModelSlot } from './model-slot.js';
import type { ModelView } from './schedule-plan.js';
import type { LoadReason, UnloadReason } from './scheduler-events.js';

/** What a status change carries for observers (state-observer.ts). */
export interface TransitionDetail {
  reason?: string;
  cause?: LoadReason | UnloadReason;
  durationMs?: number;
  exitCode?: number;
  oomKilled?: boolean;
}

/** What an observer may read of a slot. */
export type ObservedSlot = Pick<ModelSlot, 'id' | 'model' | 'status' | 'queued' | 'inFlight' | 'containerId' | 'engine' | 'loadCause' | 'hasWaiters'>;

/** Told of every status change and of every change of the queued / in-flight counts. */
export interface SlotObserver {
  transitioned(slot: ObservedSlot, from: ModelStatus, to: ModelStatus, detail: TransitionDetail): void;
  countsChanged(slot: ObservedSlot): void;
}

export interface ModelSnapshot {
  id: string;
  status: ModelStatus;
  usesGpu: boolean;
  /** The engine of the pool it runs (or sleeps) on; undefined while it holds nothing. */
  engine?: string;
  /** GPUs of that engine. */
  devices: string[];
  vramBytes?: number;
  inFlight: number;
  queued: number;
  draining: boolean;
  pinned: boolean;
  baseline: boolean;
  containerId?: string;
  lastUsedAt?: number;
  loadedAt?: number;
  loadDurationMs?: number;
  lastError?: string;
  /** Asleep since (ms epoch), while sleeping. */
  sleepingSince?: number;
}

/** A slot as the plan sees it (schedule-plan.ts); `deferred`: in crash-loop backoff. */
export function planView(slot: ModelSlot, deferred: boolean): ModelView {
  return {
    id: slot.id,
    model: slot.model,
    status: slot.status,
    usesGpu: slot.usesGpu,
    engine: slot.engine,
    devices: slot.devices,
    inFlight: slot.inFlight,
    queued: slot.queued,
    oldestEnqueuedAt: slot.oldestEnqueuedAt(),
    drainingFor: slot.drainingFor,
    lastUsedAt: slot.lastUsedAt,
    loadedAt: slot.loadedAt,
    sleepingSince: slot.sleepingSince,
    waking: slot.waking,
    lastError: slot.lastError,
    deferred,
  };
}
