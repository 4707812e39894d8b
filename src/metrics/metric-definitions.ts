// The names, label names and histogram buckets of swapdock's Prometheus metrics, in one place.
// These are a public contract (dashboards and alerts use them): add new ones, never rename.
// README.md § Metrics documents each; test/unit/swapdock-metrics.test.ts pins the exposition.
import type { ModelStatus } from '../scheduler/model-state.js';
import type { LoadReason, UnloadReason } from '../scheduler/scheduler-events.js';

/**
 * Whole-request latencies and model loads, in seconds: from a cached embedding (tens of ms) to
 * a long generation or a large model's first load (minutes).
 */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

/** Time to first token, in seconds: a warm model answers in tens of ms; a cold one waits for its load. */
export const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

/** Every model status, so `swapdock_model_state` shows 0 for the ones a model is not in. */
export const MODEL_STATES = ['stopped', 'starting', 'ready', 'sleeping', 'stopping', 'failed'] as const satisfies readonly ModelStatus[];

/** `reason` values of swapdock_model_loads_total (pre-created at 0 for every model). */
export const LOAD_REASONS = ['request', 'preload', 'baseline', 'admin', 'adopted', 'restart'] as const satisfies readonly LoadReason[];

/** `reason` values of swapdock_model_unloads_total (pre-created at 0 for every model). */
export const UNLOAD_REASONS = ['ttl', 'swap', 'admin', 'reload', 'crash', 'shutdown', 'removed'] as const satisfies readonly UnloadReason[];

/** Label value for a load or unload whose cause the event did not say (should not happen). */
export const UNKNOWN_REASON = 'unknown';

export const METRIC = {
  requests: 'swapdock_requests_total',
  requestDuration: 'swapdock_request_duration_seconds',
  timeToFirstToken: 'swapdock_time_to_first_token_seconds',
  queueWait: 'swapdock_queue_wait_seconds',
  queueDepth: 'swapdock_queue_depth',
  inFlight: 'swapdock_requests_in_flight',
  modelState: 'swapdock_model_state',
  loads: 'swapdock_model_loads_total',
  unloads: 'swapdock_model_unloads_total',
  loadDuration: 'swapdock_model_load_duration_seconds',
  failures: 'swapdock_model_failures_total',
  restarts: 'swapdock_container_restarts_total',
  swaps: 'swapdock_swaps_total',
  tokens: 'swapdock_tokens_total',
  modelEngine: 'swapdock_model_engine',
  engineUp: 'swapdock_engine_up',
  engineOutages: 'swapdock_engine_outages_total',
} as const;
