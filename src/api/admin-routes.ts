// The admin API (JSON): model states, load and unload. Model ids may contain '/', so the id is
// everything between /api/models/ and the final /load or /unload.
import { Hono } from 'hono';
import type { SwapdockConfig } from '../config/schema.js';
import type { ReloadSummary } from '../scheduler/config-changes.js';
import { RouteNotFoundError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { AppEnv } from './create-app.js';
import { redactedEnv } from '../config/redact.js';

export interface ReloadOutcome {
  reloaded: boolean;
  summary?: ReloadSummary;
  /** Every problem of a rejected config, with its YAML path. */
  issues?: { path: string; line?: number; message: string }[];
}

export function adminRoutes(deps: { scheduler: Scheduler; reload?: () => Promise<ReloadOutcome> }): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/models', (c) => c.json(describeModels(deps.scheduler.currentConfig, deps.scheduler)));

  api.post('/reload', async function reloadConfig(c) {
    if (!deps.reload) throw new RouteNotFoundError('POST', c.req.path);
    const outcome = await deps.reload();
    if (outcome.reloaded) return c.json(outcome);
    const message = `The config was not reloaded; the running config stays in force. Problems: ${outcome.issues!.map((i) => `${i.path || '(top level)'}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`).join('; ')}`;
    return c.json({ error: { message, type: 'invalid_request_error', code: 'invalid_config' }, issues: outcome.issues }, 400);
  });

  api.post('/models/unload', async function unloadAll(c) {
    const force = c.req.query('force') === 'true';
    await deps.scheduler.unloadAll({ force });
    return c.json({ unloaded: true, models: deps.scheduler.snapshot().map((s) => ({ id: s.id, status: s.status })) });
  });

  api.post('/models/*', async function loadOrUnload(c) {
    const raw = c.req.path.slice('/api/models/'.length);
    let rest: string;
    try {
      rest = decodeURIComponent(raw);
    } catch {
      rest = raw; // a malformed escape is no model id: the lookup below says so
    }
    const match = /^(.+)\/(load|unload)$/.exec(rest);
    if (!match) throw new RouteNotFoundError('POST', c.req.path);
    const [, id, action] = match as unknown as [string, string, 'load' | 'unload'];
    const started = Date.now();
    if (action === 'load') await deps.scheduler.load(id!, c.req.raw.signal);
    else await deps.scheduler.unload(id!, { force: c.req.query('force') === 'true' });
    return c.json({ model: id, action, status: deps.scheduler.snapshotOf(id!)!.status, durationMs: Date.now() - started });
  });

  return api;
}

export function describeModels(config: SwapdockConfig, scheduler: Scheduler) {
  return {
    gpus: scheduler.gpuDevices ?? null,
    swap: { policy: config.swap.policy, maxWaitMs: config.swap.maxWaitMs, swaps: scheduler.swapCount },
    models: scheduler.snapshot().map((state) => {
      const model = config.models.get(state.id)!;
      return {
        ...state,
        lastUsedAt: state.lastUsedAt ? new Date(state.lastUsedAt).toISOString() : null,
        loadedAt: state.loadedAt ? new Date(state.loadedAt).toISOString() : null,
        image: model.image,
        aliases: model.aliases,
        gpus: model.gpus ?? null,
        ttlMs: model.ttlMs,
        maxConcurrent: model.maxConcurrent,
        maxQueue: model.maxQueue,
        preload: model.preload,
        env: redactedEnv(model), // secret values as "[redacted]"
      };
    }),
  };
}
