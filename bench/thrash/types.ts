// Shared types of the swap-thrash bench: its settings, the records of a run and its result.

export type Policy = 'fifo' | 'grouped';

/** The command-line settings (see bench/swap-thrash.ts). */
export interface ThrashSettings {
  seconds: number;
  modelCounts: number[];
  clients: number;
  loadMs: number;
  serviceMs: number;
  swapMaxWaitMs: number;
  policies: Policy[];
}

export interface RequestRecord {
  model: string;
  client: number;
  sentAt: number;
  doneAt: number;
  status: number;
  error?: string;
}

export interface GrantRecord {
  model: string;
  acquiredAt: number;
  grantedAt?: number;
  failed?: boolean;
}

export interface SwapRecord {
  target: string;
  evicted: string[];
  drainAt?: number;
  decidedAt: number;
  schedReadyAt?: number;
  backendReadyAt?: number;
  firstGrantAt?: number;
  engineStopMs: number;
  engineStartMs: number;
  modelLoadMs?: number;
  drainMs?: number;
  totalMs?: number;
  overheadMs?: number;
  probeLagMs?: number;
  otherGapsMs?: number;
}

export interface LoadRecord {
  model: string;
  startedAt: number;
  backendReadyAt?: number;
  logReadyAt?: number;
  schedReadyAt?: number;
  firstGrantAt?: number;
  firstAnswerAt?: number;
  readinessLagMs?: number;
  probeLagMs?: number;
  polls: number;
}

export interface RunResult {
  policy: Policy;
  models: number;
  clientsPerModel: number;
  seconds: number;
  completed: number;
  errors: number;
  /** scheduler.swapCount increments during the timed window; swapsAfterEnd: while the last requests finished. */
  swaps: number;
  swapsAfterEnd: number;
  loads: number;
  throughputPerSec: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  waitMs: { p50: number; p99: number; max: number };
  queueWaitMs: { p50: number; p99: number; max: number };
  perModel: Record<string, { completed: number; p99LatencyMs: number }>;
  abandonedAtEnd: number;
  /** 1-minute load average at the end of the run: far above the CPU count means distorted timings. */
  loadAverage: number;
  swapDetails: SwapRecord[];
  loadDetails: LoadRecord[];
  /** Each residency from the scheduler marking the model ready to its "Stopping" decision (s from the start). */
  turns: { model: string; readyAtS: number; stopAtS?: number; served: number }[];
  /** The requests that waited for their model to be swapped in, split at the scheduler's decisions. */
  swapWaits: {
    count: number;
    longest?: { model: string; totalMs: number; untilDrainMs: number; drainMs: number; swapMs: number; readyToLeaseMs: number };
    untilDrainMs: { p50: number; max: number };
    swapMs: { p50: number; max: number };
    readyToLeaseMs: { p50: number; max: number };
  };
}
