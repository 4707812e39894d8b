// Which waiting model to serve next, and when a busy model may be drained for it: pure functions.
//
// fifo: strict arrival order. As soon as the oldest waiter needs a swap, the models in its way
//   stop taking new requests and are swapped out once their requests in flight finish. With
//   clients of two models on one GPU this alternates on nearly every request.
// grouped: a model that is loaded and busy keeps serving its own requests (new ones included)
//   while others wait, for at most `swap.maxWait`; then it drains and the swap happens. Requests
//   are grouped by model, so each swap serves a whole queue, and nobody waits much longer than
//   swap.maxWait plus one load.

export type SwapPolicy = 'grouped' | 'fifo';

export interface WaitingModel {
  id: string;
  oldestEnqueuedAt: number;
}

/** Oldest waiter first under both policies: grouping comes from serving whole queues per load. */
export function orderWaiting<T extends WaitingModel>(waiting: readonly T[]): T[] {
  return [...waiting].sort((a, b) => a.oldestEnqueuedAt - b.oldestEnqueuedAt);
}

/** Under `grouped`, a model just loaded serves at least this share of swap.maxWait before a drain. */
export const MIN_RESIDENCY_SHARE = 0.25;

/**
 * When the busy models blocking `target` may be drained; `now` or earlier means at once.
 * `blockersReadyAt`: when the latest of them became ready. With three or more models a target
 * may already be overdue when the model in its way finishes loading; the minimum residency keeps
 * that model from being drained after a single round of requests (a whole load for nothing).
 */
export function drainBlockersAt(policy: SwapPolicy, target: WaitingModel, swapMaxWaitMs: number, blockersReadyAt = 0): number {
  if (policy === 'fifo') return target.oldestEnqueuedAt;
  return Math.max(target.oldestEnqueuedAt + swapMaxWaitMs, blockersReadyAt + swapMaxWaitMs * MIN_RESIDENCY_SHARE);
}

/**
 * Under `grouped`, a model that served a request moments ago counts as busy while the waiting
 * model is still within swap.maxWait: clients in a loop (agents, benchmarks) leave gaps of a
 * millisecond between requests, and evicting in such a gap is exactly the thrash to avoid.
 */
export const RECENT_USE_MS = 250;

export function protectsRecentUse(policy: SwapPolicy, target: WaitingModel, now: number, swapMaxWaitMs: number): boolean {
  return policy === 'grouped' && now < target.oldestEnqueuedAt + swapMaxWaitMs;
}

/**
 * Whether a resident used moments ago counts as busy for a waiting model (when protectsRecentUse
 * holds). A model that can sleep is not protected: evicting it costs a wake of about a second, not
 * a cold start, so a client alternating between two models gets each swap at once instead of
 * after RECENT_USE_MS.
 */
export function recentlyUsed(resident: { lastUsedAt: number; canSleep: boolean; draining: boolean }, now: number): boolean {
  return !resident.canSleep && !resident.draining && now - resident.lastUsedAt < RECENT_USE_MS;
}
