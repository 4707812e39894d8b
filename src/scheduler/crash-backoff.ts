// Crash-loop backoff, pure: after consecutive failures (a failed start, or a crash soon after
// loading) the next start waits 1 s, 2 s, 4 s … up to a minute. A model that served for a while
// before it crashed starts again at once.

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

/** When the next start may begin; the first failure is retried at once. */
export function nextStartAllowedAt(record: FailureRecord | undefined): number {
  if (!record || record.consecutive < 2) return 0;
  return record.lastFailureAt + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (record.consecutive - 2));
}
