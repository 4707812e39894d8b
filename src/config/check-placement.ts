// Cross-field checks that catch a config which could never be scheduled, at load time rather
// than on the first request: unknown conflict targets, unknown engine names, GPUs an engine's
// inventory lacks, models larger than any GPU of every engine they may use.
import { formatSize } from './duration.js';
import { DEFAULT_ENGINE } from './engine-schema.js';

interface ModelShape {
  gpus?: 'all' | number | string[];
  vram?: number;
  conflicts: string[];
  /** Names of the engines it may run on; absent = any. */
  engines?: string[];
}

interface Gpu {
  id: string;
  vram: number;
}

interface EngineShape {
  name: string;
  /** Absent = unknown inventory: GPU models are exclusive there, nothing to check. */
  gpus?: Gpu[];
}

interface ConfigShape {
  /** One engine (`engine:`, or the GPUs detected at start-up): its GPUs. */
  gpus?: Gpu[];
  /** A pool (`engines:`); when set, `gpus` is not read (a config has one form or the other). */
  engines?: EngineShape[];
  models: Record<string, ModelShape>;
}

export interface PlacementIssue {
  path: (string | number)[];
  message: string;
}

/** The engines a model may run on (`names` = its `engines`; absent = all), in config order. */
export function allowedEngines<E extends { name: string }>(names: readonly string[] | undefined, engines: readonly E[]): E[] {
  return names ? engines.filter((e) => names.includes(e.name)) : [...engines];
}

export function checkPlacement(config: ConfigShape): PlacementIssue[] {
  const issues: PlacementIssue[] = [];
  const ids = new Set(Object.keys(config.models));
  const pool = config.engines !== undefined;
  const engines: EngineShape[] = config.engines ?? [{ name: DEFAULT_ENGINE, gpus: config.gpus }];
  engines.forEach((engine, e) => {
    const seen = new Set<string>();
    engine.gpus?.forEach((gpu, index) => {
      if (!seen.has(gpu.id)) {
        seen.add(gpu.id);
        return;
      }
      if (pool) issues.push({ path: ['engines', e, 'gpus', index, 'id'], message: `GPU '${gpu.id}' is listed twice in engine '${engine.name}'; list each GPU of an engine once` });
      else issues.push({ path: ['gpus', index, 'id'], message: `GPU '${gpu.id}' is listed twice` });
    });
  });
  const names = engines.map((e) => e.name);
  for (const [id, model] of Object.entries(config.models)) {
    model.conflicts.forEach((other, index) => {
      if (!ids.has(other)) issues.push({ path: ['models', id, 'conflicts', index], message: `'${other}' is not a configured model` });
      if (other === id) issues.push({ path: ['models', id, 'conflicts', index], message: 'a model cannot conflict with itself' });
    });
    model.engines?.forEach((name, index) => {
      const at = ['models', id, 'engines', index];
      if (!names.includes(name)) {
        issues.push({
          path: at,
          message: pool
            ? `'${name}' is not a configured engine; use a name from engines (${names.join(', ')})`
            : `'${name}' is not a configured engine: with engine: (one engine) the only name is ${DEFAULT_ENGINE}. Remove engines, or list the engines under engines:`,
        });
      } else if (model.engines!.indexOf(name) !== index) issues.push({ path: at, message: `engine '${name}' is listed twice; list each engine once` });
    });
    if (model.vram !== undefined && model.gpus === undefined) {
      issues.push({ path: ['models', id, 'vram'], message: 'vram applies to GPU models: add gpus (all, a count or device ids)' });
    }
    if (model.gpus === undefined) continue;
    const allowed = allowedEngines(model.engines, engines);
    if (allowed.length === 0) continue; // only unknown names: reported above
    const misfits: Misfit[] = [];
    for (const engine of allowed) {
      const misfit = misfitOn(engine, model, pool);
      if (!misfit) break; // fits here (or this engine's GPUs are not listed): nothing to report
      misfits.push(misfit);
    }
    if (misfits.length < allowed.length) continue;
    issues.push(placementIssue(id, misfits, engines.length > allowed.length));
  }
  return issues;
}

interface Misfit {
  key: 'gpus' | 'vram';
  /** Why it cannot load on this engine. */
  reason: string;
}

/** Why the model could never load on this engine; undefined when it fits or the engine's GPUs are not listed. */
function misfitOn(engine: EngineShape, model: ModelShape, pool: boolean): Misfit | undefined {
  const inventory = engine.gpus;
  if (!inventory || model.gpus === undefined) return undefined;
  const byId = new Map(inventory.map((g) => [g.id, g]));
  const listed = inventory.map((g) => g.id).join(', ');
  let candidates = inventory;
  if (Array.isArray(model.gpus)) {
    const unknown = model.gpus.filter((g) => !byId.has(g));
    if (unknown.length) {
      return { key: 'gpus', reason: pool ? `GPU ${unknown.join(', ')} is not in the gpus of engine '${engine.name}' (${listed})` : `GPU ${unknown.join(', ')} is not in the top-level gpus list (${listed})` };
    }
    candidates = model.gpus.map((g) => byId.get(g)!);
  } else if (typeof model.gpus === 'number' && model.gpus > inventory.length) {
    return { key: 'gpus', reason: `needs ${model.gpus} GPUs but ${pool ? `engine '${engine.name}'` : 'the host'} lists ${inventory.length}` };
  }
  if (model.vram === undefined) return undefined;
  const need = model.gpus === 'all' || Array.isArray(model.gpus) ? candidates : [...candidates].sort((a, b) => b.vram - a.vram).slice(0, model.gpus);
  const tooSmall = need.filter((g) => g.vram < model.vram!);
  if (!tooSmall.length) return undefined;
  const of = pool ? ` of engine '${engine.name}'` : '';
  return { key: 'vram', reason: `needs ${formatSize(model.vram)} per GPU but GPU ${tooSmall.map((g) => `${g.id}${of} has ${formatSize(g.vram)}`).join(', ')}` };
}

/**
 * One issue for a model that fits on none of the engines it may use. With a single engine in all
 * (or a pool of one) the reason alone, as it always was; else every engine's reason and what to do.
 * `restricted`: its `engines` leaves some engine of the pool out.
 */
function placementIssue(id: string, misfits: Misfit[], restricted: boolean): PlacementIssue {
  const key = misfits.every((m) => m.key === misfits[0]!.key) ? misfits[0]!.key : 'gpus';
  const path = ['models', id, key];
  if (misfits.length === 1 && !restricted) {
    const only = misfits[0]!;
    return { path, message: only.key === 'vram' ? `${only.reason}; it could never load` : only.reason };
  }
  const reasons = misfits.map((m) => m.reason).join('; ');
  const todo = restricted ? `Add an engine where it fits to models.${id}.engines, or change its gpus or vram` : 'Change its gpus or vram';
  const where = misfits.length === 1 ? 'the one engine it may use' : `any of the ${misfits.length} engines it may use`;
  return { path, message: `it could never load on ${where}: ${reasons}. ${todo}` };
}
