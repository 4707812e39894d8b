// Applies crash-loop backoff (crash-backoff.ts) to requests and loads: a request for a model in
// backoff waits in its queue when the next attempt falls within its queue.maxWait, else gets 503
// with Retry-After; the scheduler does not start a model before its backoff ends, and a timer
// brings it back to start the model then for the requests that wait.
import { CrashLoopError } from '../errors.js';
import { backoffDecision, nextStartAllowedAt } from './crash-backoff.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';

export class BackoffGate {
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  constructor(private readonly ctx: Pick<SchedulerContext, 'now' | 'config' | 'schedule'>) {}

  /** Throws CrashLoopError when a new request could not wait for the model's next attempt. */
  admit(slot: Slot): void {
    if (slot.status !== 'failed') return;
    const maxWaitMs = this.ctx.config().queue.maxWaitMs;
    const decision = backoffDecision(slot.failures, this.ctx.now(), maxWaitMs);
    if (decision.kind === 'reject') throw new CrashLoopError(slot.id, slot.failures!.consecutive, decision.retryAfterMs, slot.lastError, maxWaitMs);
  }

  /** True while `slot` may not be started yet; the scheduler is called again when it may. */
  deferred(slot: Slot): boolean {
    if (slot.status !== 'failed') return false;
    const at = nextStartAllowedAt(slot.failures);
    const now = this.ctx.now();
    if (at <= now) return false;
    if (this.timers.get(slot.id)?.at !== at) {
      this.cancel(slot.id);
      const timer = setTimeout(() => {
        this.timers.delete(slot.id);
        this.ctx.schedule();
      }, at - now);
      timer.unref();
      this.timers.set(slot.id, { at, timer });
    }
    return true;
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.cancel(id);
  }

  private cancel(id: string): void {
    clearTimeout(this.timers.get(id)?.timer);
    this.timers.delete(id);
  }
}
