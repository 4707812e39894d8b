// Hot reload: what changed between two validated configs (pure), and applying it to the slots.
// Unchanged models keep running untouched; removed ones drain and stop; changed ones drain,
// stop, and start with their new config on the next request.
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError, errorMessage } from '../errors.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import { ModelSlot } from './model-slot.js';
import type { Lease, SchedulerContext } from './scheduler-context.js';

export interface ModelChanges {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export interface ReloadSummary extends ModelChanges {
  /** Settings that only take effect after a restart (listen address, engine, instance). */
  needRestart: string[];
}

export function diffModels(previous: ReadonlyMap<string, ModelConfig>, next: ReadonlyMap<string, ModelConfig>): ModelChanges {
  const changes: ModelChanges = { added: [], removed: [], changed: [], unchanged: [] };
  for (const id of previous.keys()) if (!next.has(id)) changes.removed.push(id);
  for (const [id, model] of next) {
    const before = previous.get(id);
    if (!before) changes.added.push(id);
    else if (JSON.stringify(before) === JSON.stringify(model)) changes.unchanged.push(id);
    else changes.changed.push(id);
  }
  return changes;
}

export function settingsNeedingRestart(previous: SwapdockConfig, next: SwapdockConfig): string[] {
  const out: string[] = [];
  if (previous.listen !== next.listen) out.push('listen');
  if (previous.instance !== next.instance) out.push('instance');
  // The engines connected at start-up stay until a restart: which ones, and where they are.
  const where = (c: SwapdockConfig) => JSON.stringify(c.engines.map((e) => [e.name, e.host, e.address, e.tls]));
  if (!next.pool && !previous.pool) {
    if (previous.engines[0]!.host !== next.engines[0]!.host) out.push('engine.host');
  } else if (where(previous) !== where(next)) out.push('engines (names, hosts, addresses, tls)');
  next.engines.forEach((engine, index) => {
    const before = previous.engines.find((e) => e.name === engine.name);
    if (before && before.network !== engine.network) out.push(next.pool ? `engines[${index}].network` : 'engine.network');
  });
  return out;
}

export function applyConfigChanges(ctx: SchedulerContext, lifecycle: ModelLifecycle, previous: SwapdockConfig, next: SwapdockConfig): ReloadSummary {
  const changes = diffModels(previous.models, next.models);
  const needRestart = settingsNeedingRestart(previous, next);
  const log = ctx.log;
  for (const id of changes.added) ctx.slots.set(id, new ModelSlot<Lease>(next.models.get(id)!, ctx.observer, ctx.now));
  for (const id of changes.removed) {
    const slot = ctx.slots.get(id)!;
    slot.rejectWaiters(new ModelNotFoundError(id, [...next.models.keys()]));
    lifecycle
      .drainAndStop(slot, 'reload', 'removed from the config', 'removed')
      .catch((err) => log.error({ model: id, err: errorMessage(err) }, `Could not stop removed model '${id}'`))
      .finally(() => {
        if (ctx.slots.get(id) === slot && !next.models.has(id)) ctx.slots.delete(id);
      });
  }
  for (const id of changes.changed) {
    const slot = ctx.slots.get(id)!;
    slot.replaceModel(next.models.get(id)!);
    if (slot.pendingModel) {
      lifecycle
        .drainAndStop(slot, 'reload', 'its config changed', 'reload')
        .catch((err) => log.error({ model: id, err: errorMessage(err) }, `Could not replace model '${id}'`));
    }
  }
  for (const id of changes.unchanged) ctx.slots.get(id)!.model = next.models.get(id)!;
  log.info(
    { ...changes, needRestart },
    `Config reloaded: ${changes.added.length} added, ${changes.removed.length} removed, ${changes.changed.length} changed, ${changes.unchanged.length} unchanged` +
      (needRestart.length ? `; restart swapdock to apply ${needRestart.join(', ')}` : ''),
  );
  return { ...changes, needRestart };
}
