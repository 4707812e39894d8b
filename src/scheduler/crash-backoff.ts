// Crash-loop backoff, pure: after consecutive failures (a failed start, or a crash before the
// model served anything) the next start waits 1 s, 2 s, 4 s … up to a minute. A model that served
// a request to the end, or ran for a while, starts again at once after its next crash: its
// failures were not "in a row".

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** A crash after this much healthy uptime does not count toward a loop. */
export const HEALTHY_UPTIME_MS = 60_000;

export interface FailureRecord {
  consecutive: number;
  lastFailureAt: number;
}

export function recordFailure(previous: FailureRecord | undefined, now: number, uptimeMs?: number): FailureRecord {
  const loop = previous && (uptimeMs === undefined || uptimeMs < HEALTHY_UPTIME_MS);
  return { consecutive: loop ? previous.consecutive + 1 : 1, lastFailureAt: now };
}

/**
 * The model answered a request completely: it works, so the failures before are no longer part
 * of a loop and its next failure counts as the first again.
 */
export function recordServed(_previous: FailureRecord | undefined): FailureRecord | undefined {
  return undefined;
}

/** When the next start may begin; the first failure is retried at once. */
export function nextStartAllowedAt(record: FailureRecord | undefined): number {
  if (!record || record.consecutive < 2) return 0;
  return record.lastFailureAt + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (record.consecutive - 2));
}

/**
 * What a request for a model that is not running gets: `start` it now; `wait` in the queue until
 * the backoff ends (`startAt`), which is within the request's `queue.maxWait`; or `reject` it
 * (503 with Retry-After) because it could not wait that long.
 */
export type BackoffDecision = { kind: 'start' } | { kind: 'wait'; startAt: number } | { kind: 'reject'; retryAfterMs: number };

export function backoffDecision(record: FailureRecord | undefined, now: number, maxWaitMs: number): BackoffDecision {
  const startAt = nextStartAllowedAt(record);
  if (startAt <= now) return { kind: 'start' };
  if (startAt - now <= maxWaitMs) return { kind: 'wait', startAt };
  return { kind: 'reject', retryAfterMs: startAt - now };
}
