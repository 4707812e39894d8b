// Where a model loads and what makes room for it, applied: the placement policy's inputs built
// from the slots, and a load started with its evictions — each evicted model put to sleep or
// stopped as the sleep policy decides — and either a cold start or, for a sleeping model, a wake
// on the GPUs it slept on. GPU loads (wakes included) go through one p-queue, one at a time.
import PQueue from 'p-queue';
import { placeModel, type PlacementDecision, type ResidentModel } from './placement-policy.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import { protectsRecentUse, recentlyUsed } from './queue-policy.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { SchedulerEvents } from './scheduler-events.js';
import { releaseCandidate, sleepingModels } from './sleep-lifecycle.js';
import { decideReleases } from './sleep-policy.js';

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

  /** `waitingSince`: the target's oldest request, when one waits (baselines have none). */
  place(slot: Slot, waitingSince?: number): PlacementDecision {
    const { ctx } = this;
    const config = ctx.config();
    const budget = ctx.budget();
    const now = ctx.now();
    const protectRecent = waitingSince !== undefined && protectsRecentUse(config.swap.policy, { id: slot.id, oldestEnqueuedAt: waitingSince }, now, config.swap.maxWaitMs);
    const residents: ResidentModel[] = [];
    for (const s of ctx.slots.values()) {
      if (s === slot) continue;
      if (s.status === 'sleeping') {
        // Asleep: only its residual VRAM (none in exclusive mode, where GPUs are not measured).
        residents.push({ id: s.id, devices: s.devices, vramBytes: budget.sleepVramOf(s.model) ?? 0, busy: false, pinned: s.model.pinned, lastUsedAt: s.sleepingSince ?? s.lastUsedAt, asleep: true });
      } else if (s.status === 'starting' || s.status === 'ready' || s.status === 'stopping') {
        residents.push({
          id: s.id,
          devices: s.devices,
          vramBytes: budget.vramOf(s.model),
          busy: s.isBusy() || (protectRecent && recentlyUsed({ lastUsedAt: s.lastUsedAt, canSleep: s.model.sleep !== undefined, draining: s.drainingFor !== undefined }, now)),
          pinned: s.model.pinned,
          lastUsedAt: s.lastUsedAt,
          sleepVramBytes: budget.sleepVramOf(s.model),
        });
      }
    }
    const demand = budget.demandOf(slot.model);
    // A sleeping model wakes where it slept: its container holds those GPUs.
    const gpu = demand && slot.status === 'sleeping' ? { ...demand, devices: [...slot.devices] } : demand;
    return placeModel({ id: slot.id, gpu, conflicts: budget.conflictsOf(slot.id) }, { devices: budget.placementDevices, residents, maxLoaded: config.maxLoaded });
  }

  /** Starts `slot`'s load (or wake) after releasing what the decision evicts. */
  start(slot: Slot, decision: PlaceDecision): void {
    const { ctx } = this;
    const evicted = decision.evict.map((id) => ctx.slots.get(id)!);
    if (evicted.length) {
      this.swapCount++;
      this.events.emit('swap', { from: decision.evict, to: slot.id, at: ctx.now() });
      ctx.log.info({ model: slot.id, evict: decision.evict, devices: decision.devices }, `Swapping: ${decision.reason}`);
    }
    const releases = this.release(slot, evicted);
    const waking = slot.status === 'sleeping';
    slot.transition('starting', waking ? { reason: `waking '${slot.id}'` } : {});
    if (!waking) slot.devices = decision.devices;
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
      slot.operation = this.gpuLoads.add(run).finally(() => {
        this.gpuLoadPending = false;
        ctx.schedule();
      });
    } else {
      slot.operation = run().finally(() => ctx.schedule());
    }
  }

  /**
   * Evicted models: awake ones sleep when they can and engine.sleepMemory has room (stopping the
   * oldest sleepers for it if needed), else stop; sleeping ones stop. `target` counts with its
   * memory while it wakes (a wake and a sleep overlap).
   */
  private release(target: Slot, evicted: Slot[]): Promise<void>[] {
    const { ctx, lifecycle } = this;
    const reason = `evicted for '${target.id}'`;
    const awake = evicted.filter((s) => s.status !== 'sleeping');
    const protect = new Set([target, ...evicted]);
    const decisions = decideReleases(awake.map(releaseCandidate), sleepingModels(ctx.slots.values(), protect), ctx.sleepBudget(), ctx.now());
    // Sleeping victims have no decision: they stop.
    return evicted.map((victim) => {
      const decision = decisions.get(victim.id);
      return decision ? lifecycle.sleeper.apply(victim, decision, reason, 'swap') : lifecycle.stop(victim, reason, 'swap');
    });
  }

  /** At shutdown: no further queued loads start. */
  clear(): void {
    this.gpuLoads.clear();
  }
}
