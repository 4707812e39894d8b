// Where a model may load and what must make room for it: pure functions, no I/O, no logging.
// Rules: place on devices with enough free VRAM budget; otherwise evict least-recently-used idle
// models until it fits; pinned models are never evicted; busy models (requests in flight or
// queued) are never evicted — the target waits for them; `maxLoaded` caps resident models;
// `conflicts` pairs never run together. A sleeping model holds only its residual VRAM, counts
// neither toward maxLoaded nor as a conflict, and is evicted (stopped) only after idle awake
// models; an awake model that can sleep is counted as keeping its residual VRAM once evicted.
import { formatSize } from '../config/duration.js';
import type { GpuDevice as Device } from '../config/schema.js';

export interface GpuDemand {
  /** 'all' = every device; a number = that many, chosen here; ids = exactly those. */
  devices: 'all' | number | string[];
  /** Per device; undefined = the whole device. */
  vramBytes?: number;
}

export interface PlacementTarget {
  id: string;
  gpu?: GpuDemand;
  /** Models that may not be resident at the same time (already made symmetric). */
  conflicts: ReadonlySet<string>;
}

export interface ResidentModel {
  id: string;
  /** Devices it holds; empty for CPU models. */
  devices: readonly string[];
  /** Per device; undefined = whole devices. */
  vramBytes?: number;
  /** Requests in flight, or queued ones it will serve: such a model is not evicted. */
  busy: boolean;
  pinned: boolean;
  lastUsedAt: number;
  /** Asleep: `vramBytes` is what it still holds (its CUDA context). */
  asleep?: boolean;
  /** VRAM per device it keeps when put to sleep instead of stopped (sleep-capable models). */
  sleepVramBytes?: number;
}

export interface PlacementState {
  devices: readonly Device[];
  residents: readonly ResidentModel[];
  maxLoaded?: number;
}

export type PlacementDecision =
  | { kind: 'place'; devices: string[]; evict: string[]; reason: string }
  | { kind: 'wait'; devices: string[]; evict: string[]; blockedBy: string[]; reason: string }
  | { kind: 'impossible'; reason: string };

export interface PlacementOption {
  devices: string[];
  removal: ResidentModel[];
  leftoverBytes: number;
}

export function placeModel(target: PlacementTarget, state: PlacementState): PlacementDecision {
  const found = findPlacement(target, state);
  return 'kind' in found ? found : decide(target, found, state.devices);
}

/**
 * The best way to place `target` on these devices (an option: devices, what to remove, what is
 * left), or why it is impossible. pool-placement.ts compares the options of several engines.
 */
export function findPlacement(target: PlacementTarget, state: PlacementState): PlacementOption | Extract<PlacementDecision, { kind: 'impossible' }> {
  const residents = state.residents.filter((r) => r.id !== target.id);
  const conflicting = residents.filter((r) => !r.asleep && target.conflicts.has(r.id));
  const pinnedConflict = conflicting.find((r) => r.pinned);
  if (pinnedConflict) {
    return { kind: 'impossible', reason: `'${target.id}' conflicts with '${pinnedConflict.id}', which is pinned` };
  }
  const sets = candidateDeviceSets(target.gpu, state.devices);
  if (sets.length === 0) return { kind: 'impossible', reason: `the host has no GPU that '${target.id}' may use` };

  const options: PlacementOption[] = [];
  for (const devices of sets) {
    const option = optionFor(target, devices, residents, conflicting, state);
    if (option) options.push(option);
  }
  if (options.length === 0) {
    return { kind: 'impossible', reason: `'${target.id}' cannot fit even if every unpinned model is stopped (${describeNeed(target.gpu, state.devices)})` };
  }
  return options.sort(compareOptions)[0]!;
}

/** A chosen option as a decision: place, or wait for the busy models it must evict. */
export function decide(target: PlacementTarget, best: PlacementOption, devices: readonly Device[], engine?: string): Extract<PlacementDecision, { kind: 'place' | 'wait' }> {
  const evict = best.removal.map((r) => r.id);
  const blockedBy = best.removal.filter((r) => r.busy).map((r) => r.id);
  const reason = explain(target, best, devices, engine);
  return blockedBy.length
    ? { kind: 'wait', devices: best.devices, evict, blockedBy, reason }
    : { kind: 'place', devices: best.devices, evict, reason };
}

/** Evict conflicts first, then idle models least recently used first, then busy ones (which means waiting). */
function optionFor(
  target: PlacementTarget,
  devices: string[],
  residents: readonly ResidentModel[],
  conflicting: readonly ResidentModel[],
  state: PlacementState,
): PlacementOption | undefined {
  const removal = new Set<ResidentModel>(conflicting);
  const byAge = [...residents]
    .filter((r) => !r.pinned)
    .sort((a, b) => Number(a.busy) - Number(b.busy) || Number(a.asleep ?? false) - Number(b.asleep ?? false) || a.lastUsedAt - b.lastUsedAt);
  const deviceVram = new Map(state.devices.map((d) => [d.id, d.vramBytes]));
  const need = (id: string) => target.gpu?.vramBytes ?? deviceVram.get(id) ?? 0;
  const holds = (r: ResidentModel, id: string) => {
    if (!removal.has(r)) return r.vramBytes ?? deviceVram.get(id) ?? 0;
    return r.asleep ? 0 : (r.sleepVramBytes ?? 0); // evicted: stopped, or asleep with its residual
  };
  const usedOn = (id: string) => {
    let used = 0;
    for (const r of residents) if (r.devices.includes(id)) used += holds(r, id);
    return used;
  };
  const fits = () => devices.every((id) => (deviceVram.get(id) ?? 0) - usedOn(id) >= need(id));
  const awake = residents.filter((r) => !r.asleep);
  const underCap = () => state.maxLoaded === undefined || awake.filter((r) => !removal.has(r)).length + 1 <= state.maxLoaded;

  for (const candidate of byAge) {
    if (fits()) break;
    if (candidate.devices.some((d) => devices.includes(d))) removal.add(candidate);
  }
  if (!fits()) return undefined;
  for (const candidate of byAge) {
    if (underCap()) break;
    if (!candidate.asleep) removal.add(candidate);
  }
  if (!underCap()) return undefined;
  const leftoverBytes = devices.reduce((sum, id) => sum + (deviceVram.get(id) ?? 0) - usedOn(id) - need(id), 0);
  return { devices, removal: [...removal], leftoverBytes };
}

/** Prefer no waiting, then fewer evictions, then evicting older models, then the tightest fit. */
export function compareOptions(a: PlacementOption, b: PlacementOption): number {
  const busy = (o: PlacementOption) => o.removal.filter((r) => r.busy).length;
  const newestEvicted = (o: PlacementOption) => Math.max(0, ...o.removal.map((r) => r.lastUsedAt));
  return busy(a) - busy(b) || a.removal.length - b.removal.length || newestEvicted(a) - newestEvicted(b) || a.leftoverBytes - b.leftoverBytes;
}

export function candidateDeviceSets(gpu: GpuDemand | undefined, devices: readonly Device[]): string[][] {
  if (!gpu) return [[]];
  const ids = devices.map((d) => d.id);
  if (gpu.devices === 'all') return ids.length ? [ids] : [];
  if (Array.isArray(gpu.devices)) return gpu.devices.every((id) => ids.includes(id)) ? [gpu.devices] : [];
  return combinations(ids, gpu.devices);
}

function combinations(ids: string[], size: number): string[][] {
  if (size > ids.length || size < 1) return [];
  const out: string[][] = [];
  const walk = (start: number, chosen: string[]) => {
    if (chosen.length === size) return void out.push(chosen);
    for (let i = start; i <= ids.length - (size - chosen.length); i++) walk(i + 1, [...chosen, ids[i]!]);
  };
  walk(0, []);
  return out;
}

function describeNeed(gpu: GpuDemand | undefined, devices: readonly Device[]): string {
  if (!gpu) return 'the maxLoaded cap is held by pinned models';
  const amount = gpu.vramBytes === undefined ? 'a whole GPU' : `${formatSize(gpu.vramBytes)}`;
  const count = gpu.devices === 'all' ? `all ${devices.length} GPUs` : Array.isArray(gpu.devices) ? `GPU ${gpu.devices.join(', ')}` : `${gpu.devices} GPU(s)`;
  return `needs ${amount} on ${count}; pinned models hold the rest`;
}

function explain(target: PlacementTarget, option: PlacementOption, devices: readonly Device[], engine?: string): string {
  const on = engine === undefined ? '' : ` of engine '${engine}'`;
  const where = option.devices.length ? `on GPU ${option.devices.join(', ')}${on}` : `on the CPU${on}`;
  if (option.removal.length === 0) return `'${target.id}' fits ${where} beside the loaded models`;
  const why = option.removal
    .map((r) => `'${r.id}' (${r.asleep ? 'asleep' : target.conflicts.has(r.id) ? 'conflicts' : r.busy ? 'busy' : 'idle, least recently used'})`)
    .join(', ');
  const size = target.gpu?.vramBytes !== undefined ? `${formatSize(target.gpu.vramBytes)} ` : '';
  return `'${target.id}' ${size ? `needs ${size}${where}` : `runs ${where}`}: making room by stopping ${why}`;
}
