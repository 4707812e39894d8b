// The one polling primitive. `fn` is called until it returns something other than `undefined`;
// the wait between calls grows geometrically so a fast condition is seen within tens of ms
// while a slow one does not hammer its target. An error thrown by `fn` ends the loop at once
// (callers that want to retry on errors catch them inside `fn` and return `undefined`).

export interface RetryUntilOptions {
  timeoutMs: number;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  factor?: number;
  signal?: AbortSignal;
  /** Injectable clock (ms); defaults to performance.now. */
  now?: () => number;
  /** Injectable sleep; defaults to a timer that the signal cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class RetryTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(`Condition not met within ${timeoutMs} ms (${attempts} attempts)`);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `fn(attempt)` until it returns a value other than `undefined` and resolves with it.
 * Rejects with RetryTimeoutError once `timeoutMs` has passed (after a last attempt at the
 * deadline), with the signal's reason when aborted, or with whatever `fn` throws.
 */
export async function retryUntil<T>(
  fn: (attempt: number) => Promise<T | undefined> | T | undefined,
  opts: RetryUntilOptions,
): Promise<Exclude<T, undefined>> {
  const { timeoutMs, initialIntervalMs = 10, maxIntervalMs = 500, factor = 1.5, signal } = opts;
  const now = opts.now ?? (() => performance.now());
  const wait = opts.sleep ?? sleep;
  const deadline = now() + timeoutMs;
  let intervalMs = initialIntervalMs;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    const result = await fn(attempt);
    if (result !== undefined) return result as Exclude<T, undefined>;
    if (signal?.aborted) throw abortReason(signal);
    const remainingMs = deadline - now();
    if (remainingMs <= 0) throw new RetryTimeoutError(timeoutMs, attempt);
    await wait(Math.min(intervalMs, remainingMs), signal);
    intervalMs = Math.min(maxIntervalMs, intervalMs * factor);
  }
}
