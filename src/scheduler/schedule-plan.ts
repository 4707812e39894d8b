// The scheduler's decisions as one pure function: given a picture of every model (a view, no
// live objects) it returns the actions to take — reject, load (with how each evicted model is
// released: put to sleep or stopped), wake, drain, look again later, undrain, bring a baseline
// back. No I/O, no timers, no logging: scheduler.ts builds the view, applies the actions in order
// and keeps serving queues (pump), which needs no decision. The plan simulates its own actions as
// it goes (a model it loads holds its GPUs, the models it evicts are stopping or asleep, one GPU
// load at a time), so later decisions in the same plan see them as the machinery will make them.
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { ModelStatus } from './model-state.js';
import { placeInPool, type PlacePlan, type PoolDecision, type PoolEngine, type PoolResident } from './pool-placement.js';
import { RECENT_USE_MS, drainBlockersAt, orderWaiting, protectsRecentUse, recentlyUsed } from './queue-policy.js';
import { decideReleases, releaseCandidate, sleepingModels, type ReleaseDecision } from './sleep-policy.js';
import type { GpuDemand } from './placement-policy.js';
import type { GpuDevice } from '../config/schema.js';

/** One model as the plan sees it. */
export interface ModelView {
  id: string;
  model: ModelConfig;
  status: ModelStatus;
  usesGpu: boolean;
  /** The engine it runs (or sleeps) on; undefined when it holds nothing. */
  engine: string | undefined;
  devices: readonly string[];
  inFlight: number;
  queued: number;
  oldestEnqueuedAt?: number;
  drainingFor?: 'swap' | 'unload' | 'reload';
  lastUsedAt: number;
  loadedAt?: number;
  sleepingSince?: number;
  /** 'starting' from sleeping: its container is kept. */
  waking: boolean;
  lastError?: string;
  /** In crash-loop backoff: it starts when the backoff ends (a timer plans again then). */
  deferred: boolean;
}

/** What the plan needs of the engines' GPUs (GpuBudget satisfies it). */
export interface GpuView {
  placementDevicesOf(engine: string): readonly GpuDevice[];
  demandOn(model: ModelConfig, engine: string): GpuDemand | undefined;
  vramOf(model: ModelConfig, engine: string): number | undefined;
  sleepVramOf(model: ModelConfig, engine: string): number | undefined;
  conflictsOf(id: string): ReadonlySet<string>;
}

/** An engine of the pool as the plan sees it. */
export interface EngineView {
  name: string;
  /** Why it takes no models now (unreachable); undefined = up. */
  unavailable?: string;
  /** Host RAM its sleeping models may hold in total (its sleepMemory in force). */
  sleepBudget: number;
  /** A GPU load (or wake) is under way there: no other GPU load starts there before it ends. */
  gpuLoadPending: boolean;
}

export interface PlanInput {
  models: readonly ModelView[];
  config: Pick<SwapdockConfig, 'swap' | 'maxLoaded'>;
  gpus: GpuView;
  /** The pool's engines, in config order. */
  engines: readonly EngineView[];
  now: number;
}

export type PlanAction =
  /** `unreachable`: the engines it may run on, when all of them are unreachable. */
  | { kind: 'reject'; model: string; reason: string; unreachable?: string[] }
  /** Load (or, for a sleeping model, wake) `model`; `releases`: how each evicted model goes. */
  | { kind: 'load'; model: string; wake: boolean; placement: PlacePlan; releases: ReadonlyMap<string, ReleaseDecision>; baseline: boolean }
  /** Busy models in `model`'s way stop taking requests now (they finish those in flight). */
  | { kind: 'drain'; model: string; blockers: string[]; reason: string }
  /** Nothing to do for `model` before `inMs` has passed: plan again then. */
  | { kind: 'recheck'; model: string; inMs: number }
  /** Nobody waits for a swap any more: a model drained for one serves again. */
  | { kind: 'undrain'; model: string };

export function planSchedule(input: PlanInput): PlanAction[] {
  const models = new Map(input.models.map((m) => [m.id, { ...m }]));
  const actions: PlanAction[] = [];
  // Engines with a GPU load under way, and engines whose first waiting GPU model waits for busy
  // models (no later GPU model may overtake it there): one GPU load at a time per engine.
  const loading = new Set(input.engines.filter((e) => e.gpuLoadPending).map((e) => e.name));
  const headBlocked = new Set<string>();
  const gpuHeld = (engine: string) => loading.has(engine) || headBlocked.has(engine);
  const waiting = orderWaiting(
    [...models.values()]
      .filter((m) => m.queued > 0 && (m.status === 'stopped' || m.status === 'failed' || m.status === 'sleeping'))
      .map((m) => ({ id: m.id, oldestEnqueuedAt: m.oldestEnqueuedAt!, view: m })),
  );
  for (const { view, oldestEnqueuedAt } of waiting) {
    if (view.deferred) continue;
    // Every engine it may use is busy loading: wait. (None reachable: placed below, and refused.)
    const usable = usableEngines(view, input);
    if (view.usesGpu && usable.length > 0 && usable.every(gpuHeld)) continue;
    // Where no GPU load is under way first (loads on two engines run side by side), else anywhere.
    const held = new Set(view.usesGpu ? usable.filter(gpuHeld) : []);
    const free = held.size > 0 && held.size < usable.length ? place(view, models, input, oldestEnqueuedAt, held) : undefined;
    const decision = free?.kind === 'place' ? free : place(view, models, input, oldestEnqueuedAt);
    if (decision.kind === 'impossible') {
      actions.push({ kind: 'reject', model: view.id, reason: decision.reason, ...(decision.unreachable ? { unreachable: decision.unreachable } : {}) });
      view.queued = 0;
      continue;
    }
    if (view.usesGpu && gpuHeld(decision.engine)) continue;
    if (decision.kind === 'place') {
      actions.push(load(view, decision, models, input, false));
      if (view.usesGpu) loading.add(decision.engine);
    } else {
      if (view.usesGpu) headBlocked.add(decision.engine);
      actions.push(drainWhenDue(view, decision, oldestEnqueuedAt, models, input));
    }
  }
  if (waiting.length > 0) return actions;
  for (const view of models.values()) {
    if (view.drainingFor === 'swap' && view.status === 'ready') {
      view.drainingFor = undefined;
      actions.push({ kind: 'undrain', model: view.id });
    }
  }
  // Baseline models come back whenever they fit without evicting anything.
  for (const view of models.values()) {
    if (!view.model.baseline || (view.status !== 'stopped' && view.status !== 'failed') || view.lastError) continue;
    if (view.usesGpu && usableEngines(view, input).some((e) => loading.has(e))) continue;
    const decision = place(view, models, input);
    if (decision.kind === 'place' && decision.evict.length === 0 && !(view.usesGpu && loading.has(decision.engine))) {
      actions.push(load(view, decision, models, input, true));
      if (view.usesGpu) loading.add(decision.engine);
    }
  }
  return actions;
}

/** The reachable engines `view` may load on: the one it sleeps on, else those models.X.engines allows. */
function usableEngines(view: ModelView, input: PlanInput): string[] {
  if (view.status === 'sleeping' && view.engine !== undefined) return [view.engine];
  return input.engines.filter((e) => e.unavailable === undefined && (!view.model.engines || view.model.engines.includes(e.name))).map((e) => e.name);
}

/** Where `target` would load, and what is in its way (pool-placement.ts on the current picture). */
function place(target: ModelView, models: Map<string, ModelView>, input: PlanInput, waitingSince?: number, skip?: ReadonlySet<string>): PoolDecision {
  const { gpus, config, now } = input;
  const protectRecent = waitingSince !== undefined && protectsRecentUse(config.swap.policy, { id: target.id, oldestEnqueuedAt: waitingSince }, now, config.swap.maxWaitMs);
  const residents: PoolResident[] = [];
  for (const m of models.values()) {
    if (m === target || m.engine === undefined) continue;
    const engine = m.engine;
    if (m.status === 'sleeping') {
      // Asleep: only its residual VRAM (none where GPUs are not measured).
      residents.push({ id: m.id, engine, devices: m.devices, vramBytes: gpus.sleepVramOf(m.model, engine) ?? 0, busy: false, pinned: m.model.pinned, lastUsedAt: m.sleepingSince ?? m.lastUsedAt, asleep: true });
    } else if (m.status === 'starting' || m.status === 'ready' || m.status === 'stopping') {
      const recent = protectRecent && recentlyUsed({ lastUsedAt: m.lastUsedAt, canSleep: m.model.sleep !== undefined, draining: m.drainingFor !== undefined }, now);
      residents.push({ id: m.id, engine, devices: m.devices, vramBytes: gpus.vramOf(m.model, engine), busy: isBusy(m) || recent, pinned: m.model.pinned, lastUsedAt: m.lastUsedAt, sleepVramBytes: gpus.sleepVramOf(m.model, engine) });
    }
  }
  // A sleeping model wakes where it slept: its container holds those GPUs.
  const asleep = target.status === 'sleeping' && target.engine !== undefined;
  const engines: PoolEngine[] = input.engines
    .filter((e) => !skip?.has(e.name))
    .map((e) => ({ name: e.name, devices: gpus.placementDevicesOf(e.name), unavailable: e.unavailable }));
  return placeInPool(
    {
      id: target.id,
      engines: asleep ? [target.engine!] : target.model.engines,
      gpuOn: (engine) => {
        const demand = gpus.demandOn(target.model, engine);
        return demand && asleep ? { ...demand, devices: [...target.devices] } : demand;
      },
      conflicts: gpus.conflictsOf(target.id),
    },
    { engines, residents, maxLoaded: config.maxLoaded },
  );
}

/** Holds resources and may not be evicted: loading, stopping, serving, or owed queued requests (ModelSlot.isBusy). */
function isBusy(m: ModelView): boolean {
  if (m.status === 'starting' || m.status === 'stopping') return true;
  return m.inFlight > 0 || (m.queued > 0 && !m.drainingFor);
}

/**
 * The load of `target`, with each evicted model's release: an awake one sleeps when it can and
 * engine.sleepMemory has room (stopping the oldest sleepers for it if needed), else stops; a
 * sleeping one stops. The target counts with its memory while it wakes (a wake and a sleep overlap).
 * The picture is updated as the machinery will make it.
 */
function load(target: ModelView, placement: PlacePlan, models: Map<string, ModelView>, input: PlanInput, baseline: boolean): PlanAction {
  const evicted = placement.evict.map((id) => models.get(id)!);
  const releases = new Map<string, ReleaseDecision>();
  // Each engine has its own sleepMemory: the evicted models of one engine sleep within its budget.
  for (const engine of new Set(evicted.map((m) => m.engine))) {
    const here = (m: ModelView) => m.engine === engine;
    const sleeping = sleepingModels([...models.values()].filter(here), new Set([target, ...evicted]));
    const awake = evicted.filter((m) => here(m) && m.status !== 'sleeping');
    const budget = input.engines.find((e) => e.name === engine)?.sleepBudget ?? 0;
    for (const [id, decision] of decideReleases(awake.map(releaseCandidate), sleeping, budget, input.now)) releases.set(id, decision);
  }
  for (const victim of evicted) {
    const decision = releases.get(victim.id) ?? { kind: 'stop', reason: `'${victim.id}' is asleep: stopping it frees its GPU memory` };
    releases.set(victim.id, decision);
    if (decision.kind === 'sleep') {
      victim.status = 'sleeping';
      victim.sleepingSince = input.now;
      for (const id of decision.stopSleepers) models.get(id)!.status = 'stopping';
    } else victim.status = 'stopping';
  }
  const wake = target.status === 'sleeping';
  target.waking = wake;
  target.status = 'starting';
  target.engine = placement.engine;
  if (!wake) target.devices = placement.devices;
  return { kind: 'load', model: target.id, wake, placement, releases, baseline };
}

/** Drain the busy models in the way when the swap policy says it is time, else look again then. */
function drainWhenDue(target: ModelView, decision: Extract<PoolDecision, { kind: 'wait' }>, oldestEnqueuedAt: number, models: Map<string, ModelView>, input: PlanInput): PlanAction {
  const blockersReadyAt = Math.max(0, ...decision.blockedBy.map((id) => models.get(id)!.loadedAt ?? 0));
  const dueAt = drainBlockersAt(input.config.swap.policy, { id: target.id, oldestEnqueuedAt }, input.config.swap.maxWaitMs, blockersReadyAt);
  // Look again when the blockers may have gone quiet, or when the wait bound is reached.
  if (dueAt > input.now) return { kind: 'recheck', model: target.id, inMs: Math.min(dueAt - input.now, RECENT_USE_MS) };
  const blockers = decision.blockedBy.filter((id) => {
    const blocker = models.get(id)!;
    if (blocker.status !== 'ready' || blocker.drainingFor) return false;
    blocker.drainingFor = 'swap';
    return true;
  });
  return { kind: 'drain', model: target.id, blockers, reason: decision.reason };
}
