// How secrets in the config are shown wherever the config is shown (`swapdock check`, /api, the
// web UI): API keys, registry passwords (each engine's registryAuth), a sleeping model's sleep.adminKey,
// and env values marked secret — or named like a secret (HF_TOKEN, API_KEY, PASSWORD…), in case
// nobody marked them — become "[redacted]".
import type { EngineConfig, ModelConfig, SleepConfig, SwapdockConfig } from './schema.js';

export const REDACTED = '[redacted]';

const SECRET_NAME = /token|secret|passw|key|credential|auth/i;

/** The model's env with secret values replaced by "[redacted]". */
export function redactedEnv(model: Pick<ModelConfig, 'env' | 'secretEnv'>): Record<string, string> {
  const secret = new Set(model.secretEnv);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(model.env)) out[name] = secret.has(name) || SECRET_NAME.test(name) ? REDACTED : value;
  return out;
}

/** auth.keys as they may be shown: names, models and admin flags, never the keys. */
export function redactedAuth(config: Pick<SwapdockConfig, 'auth'>) {
  return {
    keys: config.auth.keys.map((k) => ({ name: k.name, key: REDACTED, models: k.models ?? 'all', admin: k.admin })),
  };
}

/** A model's sleep settings as they may be shown: sleep.adminKey (tabbyapi) as "[redacted]". */
export function redactedSleep(sleep: SleepConfig): SleepConfig {
  return sleep.adminKey === undefined ? { ...sleep } : { ...sleep, adminKey: REDACTED };
}

/** An engine's registryAuth as it may be shown: registries and user names, never the passwords. */
export function redactedRegistryAuth(engine: Pick<EngineConfig, 'registryAuth'>) {
  return engine.registryAuth.map((c) => ({ registry: c.registry, username: c.username, password: REDACTED }));
}
