// A load the plan decided (schedule-plan.ts), applied: its evictions — each evicted model put to
// sleep or stopped as the plan says — then either a cold start or, for a sleeping model, a wake
// on the GPUs it slept on. GPU loads (wakes included) go through one p-queue, one at a time.
import PQueue from 'p-queue';
import type { PlacePlan } from './pool-placement.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { SchedulerEvents } from './scheduler-events.js';
import type { ReleaseDecision } from './sleep-policy.js';

export class LoadStarter {
  /** Per engine, at most one GPU load (or wake) in progress, so two GPU-heavy loads never run at once there. */
  private readonly gpuLoads = new Map<string, PQueue>();
  /** Engines with a GPU load under way. */
  readonly gpuLoadPending = new Set<string>();
  /** Swaps performed (a load that had to evict another model); for metrics and benchmarks. */
  swapCount = 0;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: ModelLifecycle,
    private readonly events: SchedulerEvents,
  ) {}

  /** Starts `slot`'s load (or wake) after releasing the models the plan evicts, as it decided. */
  start(slot: Slot, decision: PlacePlan, releaseOf: ReadonlyMap<string, ReleaseDecision>): void {
    const { ctx } = this;
    if (decision.evict.length) {
      this.swapCount++;
      this.events.emit('swap', { from: decision.evict, to: slot.id, at: ctx.now() });
      ctx.log.info({ model: slot.id, evict: decision.evict, devices: decision.devices, engine: decision.engine }, `Swapping: ${decision.reason}`);
    }
    const reason = `evicted for '${slot.id}'`;
    const releases = decision.evict.map((id) => {
      const victim = ctx.slots.get(id)!;
      const release = releaseOf.get(id);
      return release ? this.lifecycle.sleeper.apply(victim, release, reason, 'swap') : this.lifecycle.stop(victim, reason, 'swap');
    });
    const waking = slot.status === 'sleeping';
    slot.beginLoad(waking ? undefined : { engine: decision.engine, devices: decision.devices }, waking ? { reason: `waking '${slot.id}'` } : {});
    const engine = decision.engine;
    const budget = ctx.budget();
    const needBytes = budget.vramOf(slot.model, engine);
    const run = async () => {
      await Promise.allSettled(releases);
      // Waking: its own residual VRAM stays held by its container.
      const residual = waking ? (budget.sleepVramOf(slot.model, engine) ?? 0) : 0;
      await budget.waitUntilFree(engine, slot.devices, needBytes === undefined ? undefined : needBytes - residual, ctx.log);
      if (waking) await this.lifecycle.sleeper.wake(slot);
      else await this.lifecycle.start(slot);
    };
    if (slot.usesGpu) {
      let queue = this.gpuLoads.get(engine);
      if (!queue) this.gpuLoads.set(engine, (queue = new PQueue({ concurrency: 1 })));
      this.gpuLoadPending.add(engine);
      slot.track(
        queue.add(run).finally(() => {
          this.gpuLoadPending.delete(engine);
          ctx.schedule();
        }),
      );
    } else {
      slot.track(run().finally(() => ctx.schedule()));
    }
  }

  /** At shutdown: no further queued loads start. */
  clear(): void {
    for (const queue of this.gpuLoads.values()) queue.clear();
  }
}
