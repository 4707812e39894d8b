// Putting a model to sleep and waking it, on behalf of the scheduler: the calls go through the
// model's SleepControl (backends/), the bookkeeping through the slot. Failures fall back to what
// always works: a sleep that fails or times out stops the container; a wake that fails stops it,
// and the requests still queued for the model make the scheduler cold-start it.
import { errorMessage } from '../errors.js';
import { short } from './container-lifecycle.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { UnloadReason } from './scheduler-events.js';
import { decideRelease, releaseCandidate, sleepingModels, type ReleaseDecision } from './sleep-policy.js';

export class SleepLifecycle {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: ModelLifecycle,
  ) {}

  /**
   * A ready model with nothing in flight must give its GPU back (idle TTL, admin): it sleeps when
   * it can and engine.sleepMemory has room (stopping older sleepers if needed), else it stops.
   */
  release(slot: Slot, reason: string, cause: UnloadReason): Promise<void> {
    // Sleeping models share their engine's sleepMemory: only those on the same engine count.
    const here = [...this.ctx.slots.values()].filter((s) => s.engine === slot.engine);
    const decision = decideRelease(releaseCandidate(slot), sleepingModels(here), this.ctx.sleepBudget(slot.engine!));
    return this.apply(slot, decision, reason, cause);
  }

  /** Carries out a release decision of the sleep policy: the sleepers it names stop, then `slot` sleeps; or `slot` stops. */
  apply(slot: Slot, decision: ReleaseDecision, reason: string, cause: UnloadReason): Promise<void> {
    if (decision.kind === 'stop') {
      if (slot.model.sleep && slot.status === 'ready') this.ctx.log.info({ model: slot.id }, `Stopping '${slot.id}' instead of putting it to sleep: ${decision.reason}`);
      return this.lifecycle.stop(slot, reason, cause);
    }
    const room = decision.stopSleepers.map((id) => this.lifecycle.stop(this.ctx.slots.get(id)!, `making room in engine.sleepMemory for '${slot.id}'`, 'swap'));
    return Promise.all([...room, this.sleep(slot, reason, cause)]).then(() => undefined);
  }

  /** Puts a ready, idle model to sleep now (the caller decided it may); on failure it is stopped. */
  sleep(slot: Slot, reason: string, cause: UnloadReason): Promise<void> {
    const control = this.ctx.backend.sleepControl(slot.model);
    if (!control || slot.status !== 'ready') return this.lifecycle.stop(slot, reason, cause);
    const { ctx } = this;
    const log = ctx.log.child({ model: slot.id, containerId: short(slot.containerId!) });
    const endpoint = slot.endpoint!;
    slot.beginSleep({ reason: `going to sleep (${reason})`, cause });
    log.info({ reason }, `Putting '${slot.id}' to sleep (${reason})`);
    const startedAt = ctx.now();
    const call = control
      .sleep(endpoint) // bounded by sleep.timeout inside the client
      .then(
        () => {
          const ms = ctx.now() - startedAt;
          log.info({ durationMs: ms }, `'${slot.id}' is asleep (${ms} ms); its GPU memory is free`);
          ctx.observer.loadProgress(slot.id, 'sleep', `asleep after ${ms} ms`);
          if (slot.status === 'sleeping') this.armSleepTimer(slot);
        },
        async (err) => {
          log.warn({ err: errorMessage(err) }, `Putting '${slot.id}' to sleep failed: ${errorMessage(err)}. Stopping its container instead`);
          ctx.observer.loadProgress(slot.id, 'sleep', `sleep failed: ${errorMessage(err)}; stopping the container`);
          slot.trackSleepCall(undefined);
          if (slot.status === 'sleeping') await this.lifecycle.stop(slot, `sleep failed: ${errorMessage(err)}`, cause);
        },
      )
      .finally(() => {
        if (slot.sleepCall === call) slot.trackSleepCall(undefined);
        ctx.schedule();
      });
    slot.trackSleepCall(call);
    return call;
  }

  /**
   * Wakes a model the scheduler moved from sleeping to starting (its GPUs are free by now):
   * the wake sequence, then the readiness probe, then ready. On failure the container is stopped
   * and the model is 'stopped': its queued requests make the scheduler cold-start it.
   */
  async wake(slot: Slot): Promise<void> {
    const { ctx } = this;
    const control = ctx.backend.sleepControl(slot.model)!;
    const log = ctx.log.child({ model: slot.id, containerId: short(slot.containerId!) });
    const startedAt = ctx.now();
    log.info(`Waking '${slot.id}'`);
    try {
      await slot.sleepCall; // a sleep still under way finishes first
      const endpoint = slot.endpoint!;
      await control.wake(endpoint); // bounded by sleep.timeout inside the client
      await ctx.backend.ready({ runtime: ctx.runtimeOf(slot.engine), containerId: slot.containerId!, endpoint, healthPath: slot.model.health, timeoutMs: slot.model.sleep!.timeoutMs });
      const ms = ctx.now() - startedAt;
      slot.markReady({ id: slot.containerId!, endpoint }, ms, { reason: `'${slot.id}' is awake (${ms} ms)` });
      log.info({ durationMs: ms }, `'${slot.id}' is awake and serving again (${ms} ms)`);
      ctx.observer.loadProgress(slot.id, 'wake', `awake after ${ms} ms`);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, `Waking '${slot.id}' failed: ${errorMessage(err)}. Stopping its container; it starts again from scratch`);
      ctx.observer.loadProgress(slot.id, 'wake', `wake failed: ${errorMessage(err)}; starting it again from scratch`);
      await this.lifecycle.stopStarting(slot, `wake failed: ${errorMessage(err)}`);
    }
  }

  /** sleep.ttl: a model asleep this long is stopped (0 = never). */
  armSleepTimer(slot: Slot): void {
    const ttlMs = slot.model.sleep?.ttlMs ?? 0;
    slot.armSleepTimer(ttlMs, () => {
      if (slot.status !== 'sleeping' || slot.hasWaiters()) return;
      void this.lifecycle.stop(slot, `asleep for ${Math.round(ttlMs / 1000)} s (sleep.ttl)`, 'ttl');
    });
  }
}
