// The scheduler's decisions as one pure function: given a picture of every model (a view, no
// live objects) it returns the actions to take — reject, load (with how each evicted model is
// released: put to sleep or stopped), wake, drain, look again later, undrain, bring a baseline
// back. No I/O, no timers, no logging: scheduler.ts builds the view, applies the actions in order
// and keeps serving queues (pump), which needs no decision. The plan simulates its own actions as
// it goes (a model it loads holds its GPUs, the models it evicts are stopping or asleep, one GPU
// load at a time), so later decisions in the same plan see them as the machinery will make them.
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { ModelStatus } from './model-state.js';
import { placeModel, type PlacementDecision, type ResidentModel } from './placement-policy.js';
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

/** What the plan needs of the GPUs (GpuBudget satisfies it). */
export interface GpuView {
  readonly placementDevices: readonly GpuDevice[];
  readonly inventory: readonly GpuDevice[] | undefined;
  demandOf(model: ModelConfig): GpuDemand | undefined;
  vramOf(model: ModelConfig): number | undefined;
  sleepVramOf(model: ModelConfig): number | undefined;
  conflictsOf(id: string): ReadonlySet<string>;
}

export interface PlanInput {
  models: readonly ModelView[];
  config: Pick<SwapdockConfig, 'swap' | 'maxLoaded'>;
  gpus: GpuView;
  /** engine.sleepMemory in force. */
  sleepBudget: number;
  /** A GPU load (or wake) is under way: no other GPU load starts before it ends. */
  gpuLoadPending: boolean;
  now: number;
}

export type PlanAction =
  | { kind: 'reject'; model: string; reason: string }
  /** Load (or, for a sleeping model, wake) `model`; `releases`: how each evicted model goes. */
  | { kind: 'load'; model: string; wake: boolean; placement: Extract<PlacementDecision, { kind: 'place' }>; releases: ReadonlyMap<string, ReleaseDecision>; baseline: boolean }
  /** Busy models in `model`'s way stop taking requests now (they finish those in flight). */
  | { kind: 'drain'; model: string; blockers: string[]; reason: string }
  /** Nothing to do for `model` before `inMs` has passed: plan again then. */
  | { kind: 'recheck'; model: string; inMs: number }
  /** Nobody waits for a swap any more: a model drained for one serves again. */
  | { kind: 'undrain'; model: string };

export function planSchedule(input: PlanInput): PlanAction[] {
  const models = new Map(input.models.map((m) => [m.id, { ...m }]));
  const actions: PlanAction[] = [];
  let gpuLoadPending = input.gpuLoadPending;
  const waiting = orderWaiting(
    [...models.values()]
      .filter((m) => m.queued > 0 && (m.status === 'stopped' || m.status === 'failed' || m.status === 'sleeping'))
      .map((m) => ({ id: m.id, oldestEnqueuedAt: m.oldestEnqueuedAt!, view: m })),
  );
  let gpuHeadBlocked = false;
  for (const { view, oldestEnqueuedAt } of waiting) {
    if (view.deferred) continue;
    if (view.usesGpu && (gpuLoadPending || gpuHeadBlocked)) continue;
    const decision = place(view, models, input, oldestEnqueuedAt);
    if (decision.kind === 'impossible') {
      actions.push({ kind: 'reject', model: view.id, reason: decision.reason });
      view.queued = 0;
    } else if (decision.kind === 'place') {
      actions.push(load(view, decision, models, input, false));
      if (view.usesGpu) gpuLoadPending = true;
    } else {
      if (view.usesGpu) gpuHeadBlocked = true;
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
  if (gpuLoadPending) return actions;
  // Baseline models come back whenever they fit without evicting anything.
  for (const view of models.values()) {
    if (!view.model.baseline || (view.status !== 'stopped' && view.status !== 'failed') || view.lastError) continue;
    if (view.usesGpu && gpuLoadPending) continue;
    const decision = place(view, models, input);
    if (decision.kind === 'place' && decision.evict.length === 0) {
      actions.push(load(view, decision, models, input, true));
      if (view.usesGpu) gpuLoadPending = true;
    }
  }
  return actions;
}

/** Where `target` would load, and what is in its way (placement-policy.ts on the current picture). */
function place(target: ModelView, models: Map<string, ModelView>, input: PlanInput, waitingSince?: number): PlacementDecision {
  const { gpus, config, now } = input;
  const protectRecent = waitingSince !== undefined && protectsRecentUse(config.swap.policy, { id: target.id, oldestEnqueuedAt: waitingSince }, now, config.swap.maxWaitMs);
  const residents: ResidentModel[] = [];
  for (const m of models.values()) {
    if (m === target) continue;
    if (m.status === 'sleeping') {
      // Asleep: only its residual VRAM (none in exclusive mode, where GPUs are not measured).
      residents.push({ id: m.id, devices: m.devices, vramBytes: gpus.sleepVramOf(m.model) ?? 0, busy: false, pinned: m.model.pinned, lastUsedAt: m.sleepingSince ?? m.lastUsedAt, asleep: true });
    } else if (m.status === 'starting' || m.status === 'ready' || m.status === 'stopping') {
      const recent = protectRecent && recentlyUsed({ lastUsedAt: m.lastUsedAt, canSleep: m.model.sleep !== undefined, draining: m.drainingFor !== undefined }, now);
      residents.push({ id: m.id, devices: m.devices, vramBytes: gpus.vramOf(m.model), busy: isBusy(m) || recent, pinned: m.model.pinned, lastUsedAt: m.lastUsedAt, sleepVramBytes: gpus.sleepVramOf(m.model) });
    }
  }
  const demand = gpus.demandOf(target.model);
  // A sleeping model wakes where it slept: its container holds those GPUs.
  const gpu = demand && target.status === 'sleeping' ? { ...demand, devices: [...target.devices] } : demand;
  return placeModel({ id: target.id, gpu, conflicts: gpus.conflictsOf(target.id) }, { devices: gpus.placementDevices, residents, maxLoaded: config.maxLoaded });
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
function load(target: ModelView, placement: Extract<PlacementDecision, { kind: 'place' }>, models: Map<string, ModelView>, input: PlanInput, baseline: boolean): PlanAction {
  const evicted = placement.evict.map((id) => models.get(id)!);
  const sleeping = sleepingModels(models.values(), new Set([target, ...evicted]));
  const awake = evicted.filter((m) => m.status !== 'sleeping');
  const decided = decideReleases(awake.map(releaseCandidate), sleeping, input.sleepBudget, input.now);
  const releases = new Map<string, ReleaseDecision>();
  for (const victim of evicted) {
    const decision = decided.get(victim.id) ?? { kind: 'stop', reason: `'${victim.id}' is asleep: stopping it frees its GPU memory` };
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
  if (!wake) target.devices = placement.devices;
  return { kind: 'load', model: target.id, wake, placement, releases, baseline };
}

/** Drain the busy models in the way when the swap policy says it is time, else look again then. */
function drainWhenDue(target: ModelView, decision: Extract<PlacementDecision, { kind: 'wait' }>, oldestEnqueuedAt: number, models: Map<string, ModelView>, input: PlanInput): PlanAction {
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
