// GET /v1/models: every configured model and alias with its live state, context length and owner. Reading it never starts
// a model or renews its idle TTL (list requests must not wake models).
import type { SwapdockConfig } from '../config/schema.js';
import type { Scheduler } from '../scheduler/scheduler.js';

const CREATED = Math.floor(Date.now() / 1000);

export function listModels(config: SwapdockConfig, scheduler: Scheduler) {
  const data = [];
  for (const model of config.models.values()) {
    if (model.unlisted) continue; // still served by name
    const state = scheduler.snapshotOf(model.id);
    const common = {
      object: 'model' as const,
      created: CREATED,
      owned_by: model.owner,
      state: state?.status ?? 'stopped',
      gpu: model.gpus !== undefined,
      ...(model.contextLength !== undefined ? { context_length: model.contextLength } : {}),
      ...(model.upstreamModel ? { upstream_model: model.upstreamModel } : {}),
    };
    data.push({ id: model.id, ...common, aliases: model.aliases });
    for (const alias of model.aliases) data.push({ id: alias, ...common, alias_of: model.id });
  }
  return { object: 'list' as const, data };
}
