// GET /v1/models: every configured model and alias with its live state, context length and
// owner. Reading it never starts a model or renews its idle TTL (list requests must not wake
// models). Clients poll it (Open WebUI on every page), and with hundreds of models the answer is
// hundreds of KB: the serialized body is kept per config, API key and model-state version, and
// built again only after a model changed state, a reload, or for a new key.
import type { SwapdockConfig } from '../config/schema.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { visibleTo, type ApiKey } from './auth.js';

const CREATED = Math.floor(Date.now() / 1000);

export function listModels(config: SwapdockConfig, scheduler: Scheduler) {
  const data = [];
  for (const model of config.models.values()) {
    if (model.unlisted) continue; // still served by name
    const common = {
      object: 'model' as const,
      created: CREATED,
      owned_by: model.owner,
      state: scheduler.statusOf(model.id) ?? 'stopped',
      gpu: model.gpus !== undefined,
      ...(model.contextLength !== undefined ? { context_length: model.contextLength } : {}),
      ...(model.upstreamModel ? { upstream_model: model.upstreamModel } : {}),
    };
    data.push({ id: model.id, ...common, aliases: model.aliases });
    for (const alias of model.aliases) data.push({ id: alias, ...common, alias_of: model.id });
  }
  return { object: 'list' as const, data };
}

export type ModelListEntry = ReturnType<typeof listModels>['data'][number];

/** The model list as each API key sees it, serialized once per state version. */
export class ModelListCache {
  private version = 0;
  private cached = new WeakMap<SwapdockConfig, Map<string, { version: number; entries: ModelListEntry[]; json: string }>>();

  constructor(private readonly scheduler: Scheduler) {
    scheduler.events.on('model', () => this.version++);
  }

  private entry(config: SwapdockConfig, key: ApiKey | undefined) {
    let byKey = this.cached.get(config);
    if (!byKey) this.cached.set(config, (byKey = new Map()));
    const name = key?.name ?? '';
    let hit = byKey.get(name);
    if (hit?.version !== this.version) {
      const list = listModels(config, this.scheduler);
      const entries = visibleTo(list.data, config, key);
      hit = { version: this.version, entries, json: JSON.stringify({ object: list.object, data: entries }) };
      byKey.set(name, hit);
    }
    return hit;
  }

  /** The JSON body of GET /v1/models for `key`. */
  json(config: SwapdockConfig, key: ApiKey | undefined): string {
    return this.entry(config, key).json;
  }

  /** The entries `key` may see (for GET /v1/models/{id}). */
  entries(config: SwapdockConfig, key: ApiKey | undefined): ModelListEntry[] {
    return this.entry(config, key).entries;
  }
}
