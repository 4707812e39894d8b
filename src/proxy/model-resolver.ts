// Maps the name a client asked for (model id or alias) to a configured model.
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError } from '../errors.js';

export class ModelResolver {
  private byName = new Map<string, ModelConfig>();
  private fallback?: ModelConfig;

  constructor(config: SwapdockConfig) {
    this.update(config);
  }

  /** Takes the names of a reloaded config. */
  update(config: SwapdockConfig): void {
    this.byName = new Map();
    this.fallback = undefined;
    for (const model of config.models.values()) {
      this.byName.set(model.id, model);
      for (const alias of model.aliases) this.byName.set(alias, model);
    }
    if (config.fallback !== undefined) this.fallback = this.byName.get(config.fallback);
  }

  resolve(name: string): ModelConfig {
    const model = this.byName.get(name);
    if (!model) throw new ModelNotFoundError(name, this.names());
    return model;
  }

  /** Like resolve(), but an unknown name goes to the configured `fallback` model when there is one. */
  resolveForRequest(name: string): { model: ModelConfig; viaFallback: boolean } {
    const model = this.byName.get(name);
    if (model) return { model, viaFallback: false };
    if (this.fallback) return { model: this.fallback, viaFallback: true };
    throw new ModelNotFoundError(name, this.names());
  }

  /** Every name a client may use, model ids first. */
  names(): string[] {
    return [...new Set([...[...this.byName.values()].map((m) => m.id), ...this.byName.keys()])];
  }
}

/** The model name the backend expects in the request body. */
export function upstreamNameOf(model: ModelConfig): string {
  return model.upstreamModel ?? model.id;
}
