// Placement over a pool of engines (config `engines:`): pure, no I/O. Each engine the model may
// use and that is reachable is tried with placement-policy.ts on that engine's GPUs; the best
// option wins by the same order as on one engine (no waiting, fewer evictions, older evictions,
// then the tightest fit of free VRAM), and config order breaks ties. Models on other engines
// hold none of this engine's GPUs, but still count toward `maxLoaded` and `conflicts`, which are
// pool-wide: evicting one of them to stay under the cap is a valid option.
import type { GpuDevice as Device } from '../config/schema.js';
import { compareOptions, decide, findPlacement, type GpuDemand, type PlacementDecision, type PlacementOption, type ResidentModel } from './placement-policy.js';

export interface PoolEngine {
  name: string;
  /** GPUs to place on (one pseudo device when the engine's GPUs are not measured). */
  devices: readonly Device[];
  /** Why it takes no models now (unreachable); undefined = up. */
  unavailable?: string;
}

export interface PoolResident extends ResidentModel {
  /** Where it runs; its `devices` are that engine's. */
  engine: string;
}

export interface PoolTarget {
  id: string;
  /** Engines it may run on (models.X.engines, or the one a sleeping model sleeps on); undefined = any. */
  engines?: readonly string[];
  /** Its GPU demand on one engine (it differs when an engine's GPUs are not measured); undefined = CPU only. */
  gpuOn(engine: string): GpuDemand | undefined;
  conflicts: ReadonlySet<string>;
}

export interface PoolState {
  engines: readonly PoolEngine[];
  residents: readonly PoolResident[];
  maxLoaded?: number;
}

export type PoolDecision =
  | (Extract<PlacementDecision, { kind: 'place' | 'wait' }> & { engine: string })
  /** `unreachable`: set when the only engines it may use are unreachable (their names). */
  | (Extract<PlacementDecision, { kind: 'impossible' }> & { unreachable?: string[] });

/** A decision to load: which engine, which of its devices, what to evict. */
export type PlacePlan = Extract<PoolDecision, { kind: 'place' }>;

export function placeInPool(target: PoolTarget, state: PoolState): PoolDecision {
  const allowed = state.engines.filter((e) => !target.engines || target.engines.includes(e.name));
  if (allowed.length === 0) {
    return { kind: 'impossible', reason: `'${target.id}' may run only on engine ${names(target.engines ?? [])}, which the pool does not have` };
  }
  const up = allowed.filter((e) => e.unavailable === undefined);
  if (up.length === 0) {
    const why = allowed.map((e) => `'${e.name}': ${e.unavailable}`).join('; ');
    return { kind: 'impossible', reason: `the engine${allowed.length > 1 ? 's' : ''} '${target.id}' may run on ${allowed.length > 1 ? 'are' : 'is'} unreachable (${why})`, unreachable: allowed.map((e) => e.name) };
  }
  const several = state.engines.length > 1;
  let best: { engine: PoolEngine; option: PlacementOption } | undefined;
  const refusals: string[] = [];
  for (const engine of up) {
    const residents = state.residents.map((r) => (r.engine === engine.name ? r : { ...r, devices: [] }));
    const found = findPlacement({ id: target.id, gpu: target.gpuOn(engine.name), conflicts: target.conflicts }, { devices: engine.devices, residents, maxLoaded: state.maxLoaded });
    if ('kind' in found) refusals.push(several ? `on '${engine.name}': ${found.reason}` : found.reason);
    else if (!best || compareOptions(found, best.option) < 0) best = { engine, option: found };
  }
  if (!best) {
    for (const down of allowed.filter((e) => e.unavailable !== undefined)) refusals.push(`engine '${down.name}' is unreachable (${down.unavailable})`);
    return { kind: 'impossible', reason: refusals.join('; ') };
  }
  const placement = { id: target.id, gpu: target.gpuOn(best.engine.name), conflicts: target.conflicts };
  return { ...decide(placement, best.option, best.engine.devices, several ? best.engine.name : undefined), engine: best.engine.name };
}

const names = (list: readonly string[]) => list.map((n) => `'${n}'`).join(', ');
