// What the scheduler and the proxy tell observers (metrics, /api/events, the web UI): a typed
// event bus. Emitting is synchronous and cheap; listeners must not throw or block.
import { EventEmitter } from 'node:events';
import type { ModelStatus } from './model-state.js';

/** Why a model was loaded or unloaded (a metrics label: keep the set small and stable). */
export type LoadReason = 'request' | 'preload' | 'baseline' | 'admin' | 'adopted' | 'restart';
export type UnloadReason = 'ttl' | 'swap' | 'admin' | 'reload' | 'crash' | 'shutdown' | 'removed';

export interface ModelStateEvent {
  model: string;
  /** The engine of the pool its container is on (or was, for a stop or failure). */
  engine?: string;
  from: ModelStatus;
  to: ModelStatus;
  /** One line for people: why it changed (e.g. "evicted for qwen (VRAM)", "idle for 15m"). */
  reason?: string;
  /** Machine-readable cause for loads and unloads. */
  cause?: LoadReason | UnloadReason;
  /** For `to: ready`: the whole load (create + start + health); for `to: stopped`: the stop. */
  durationMs?: number;
  /** Container exit code / OOM, when a container died. */
  exitCode?: number;
  oomKilled?: boolean;
  at: number;
}

export interface QueueEvent {
  model: string;
  queued: number;
  inFlight: number;
  at: number;
}

/** Progress of a load: image pull progress, container log lines while it starts; a sleep or wake and how it went. */
export interface LoadProgressEvent {
  model: string;
  phase: 'pull' | 'log' | 'sleep' | 'wake';
  message: string;
  at: number;
}

/** One finished proxied request (for metrics, the UI's recent requests). */
export interface RequestEvent {
  requestId: string;
  model?: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** Time from arrival to the first body byte sent to the client. */
  ttftMs?: number;
  /** Time spent waiting for the model (queue + load). */
  waitMs?: number;
  tokensIn?: number;
  tokensOut?: number;
  at: number;
}

/** A model's container output line (captured while the container runs). */
export interface ContainerLogEvent {
  model: string;
  stream: 'stdout' | 'stderr';
  line: string;
  at: number;
}

/** An engine of the pool became unreachable (`down`, with why) or answers again (`up`). */
export interface EngineStateEvent {
  engine: string;
  state: 'up' | 'down';
  reason?: string;
  at: number;
}

export interface SchedulerEventMap {
  engine: [EngineStateEvent];
  model: [ModelStateEvent];
  queue: [QueueEvent];
  load: [LoadProgressEvent];
  request: [RequestEvent];
  log: [ContainerLogEvent];
  swap: [{ from: string[]; to: string; at: number }];
}

export class SchedulerEvents extends EventEmitter<SchedulerEventMap> {
  constructor() {
    super();
    this.setMaxListeners(0); // every SSE client listens
  }
}
