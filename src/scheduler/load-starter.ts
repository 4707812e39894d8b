// A load the plan decided (schedule-plan.ts), applied: its evictions — each evicted model put to
// sleep or stopped as the plan says — then either a cold start or, for a sleeping model, a wake
// on the GPUs it slept on. GPU loads (wakes included) go through one p-queue, one at a time.
import PQueue from 'p-queue';
import type { PlacementDecision } from './placement-policy.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { SchedulerEvents } from './scheduler-events.js';
import type { ReleaseDecision } from './sleep-policy.js';

export type PlaceDecision = Extract<PlacementDecision, { kind: 'place' }>;

export class LoadStarter {
  /** At most one GPU load (or wake) in progress, so two GPU-heavy loads never run at once. */
  private readonly gpuLoads = new PQueue({ concurrency: 1 });
  gpuLoadPending = false;
  /** Swaps performed (a load that had to evict another model); for metrics and benchmarks. */
  swapCount = 0;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: ModelLifecycle,
    private readonly events: SchedulerEvents,
  ) {}

  /** Starts `slot`'s load (or wake) after releasing the models the plan evicts, as it decided. */
  start(slot: Slot, decision: PlaceDecision, releaseOf: ReadonlyMap<string, ReleaseDecision>): void {
    const { ctx } = this;
    if (decision.evict.length) {
      this.swapCount++;
      this.events.emit('swap', { from: decision.evict, to: slot.id, at: ctx.now() });
      ctx.log.info({ model: slot.id, evict: decision.evict, devices: decision.devices }, `Swapping: ${decision.reason}`);
    }
    const reason = `evicted for '${slot.id}'`;
    const releases = decision.evict.map((id) => {
      const victim = ctx.slots.get(id)!;
      const release = releaseOf.get(id);
      return release ? this.lifecycle.sleeper.apply(victim, release, reason, 'swap') : this.lifecycle.stop(victim, reason, 'swap');
    });
    const waking = slot.status === 'sleeping';
    slot.beginLoad(waking ? undefined : decision.devices, waking ? { reason: `waking '${slot.id}'` } : {});
    const budget = ctx.budget();
    const needBytes = budget.vramOf(slot.model);
    const run = async () => {
      await Promise.allSettled(releases);
      // Waking: its own residual VRAM stays held by its container.
      const residual = waking ? (budget.sleepVramOf(slot.model) ?? 0) : 0;
      await budget.waitUntilFree(slot.devices, needBytes === undefined ? undefined : needBytes - residual, ctx.log);
      if (waking) await this.lifecycle.sleeper.wake(slot);
      else await this.lifecycle.start(slot);
    };
    if (slot.usesGpu) {
      this.gpuLoadPending = true;
      slot.track(
        this.gpuLoads.add(run).finally(() => {
          this.gpuLoadPending = false;
          ctx.schedule();
        }),
      );
    } else {
      slot.track(run().finally(() => ctx.schedule()));
    }
  }

  /** At shutdown: no further queued loads start. */
  clear(): void {
    this.gpuLoads.clear();
  }
}
