// The admin API (JSON): model states, load and unload, config reload.
import type { Context, Handler } from 'hono';
import type { SwapdockConfig } from '../config/schema.js';
import type { ReloadSummary } from '../scheduler/config-changes.js';
import { RouteNotFoundError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { AppEnv } from './app-env.js';
import { InvalidConfigError } from './http-errors.js';
import { redactedEnv } from '../config/redact.js';

export interface ReloadOutcome {
  reloaded: boolean;
  summary?: ReloadSummary;
  /** Every problem of a rejected config, with its YAML path. */
  issues?: { path: string; line?: number; message: string }[];
}

export interface AdminDeps {
  scheduler: Scheduler;
  reload?: () => Promise<ReloadOutcome>;
}

/** The admin API's handlers; routes.ts says where each one is served. */
export function adminHandlers(deps: AdminDeps) {
  return {
    /** GET /api/models */
    listModels: ((c) => c.json(describeModels(deps.scheduler.currentConfig, deps.scheduler))) as Handler<AppEnv>,

    /** POST /api/reload */
    reloadConfig: async function reloadConfig(c) {
      if (!deps.reload) throw new RouteNotFoundError('POST', c.req.path);
      const outcome = await deps.reload();
      if (!outcome.reloaded) throw new InvalidConfigError(outcome.issues ?? []);
      return c.json(outcome);
    } as Handler<AppEnv>,

    /** POST /api/models/unload */
    unloadAll: async function unloadAll(c) {
      await deps.scheduler.unloadAll({ force: c.req.query('force') === 'true' });
      return c.json({ unloaded: true, models: deps.scheduler.snapshot().map((s) => ({ id: s.id, status: s.status })) });
    } as Handler<AppEnv>,

    /** POST /api/models/{id}/load; ids may contain '/'. */
    loadModel: async function loadModel(c: Context<AppEnv>, id: string) {
      const started = Date.now();
      await deps.scheduler.load(id, c.var.tracked.abort.signal);
      return c.json({ model: id, action: 'load', status: deps.scheduler.snapshotOf(id)!.status, durationMs: Date.now() - started });
    },

    /** POST /api/models/{id}/sleep */
    sleepModel: async function sleepModel(c: Context<AppEnv>, id: string) {
      const started = Date.now();
      await deps.scheduler.sleep(id);
      return c.json({ model: id, action: 'sleep', status: deps.scheduler.snapshotOf(id)!.status, durationMs: Date.now() - started });
    },

    /** POST /api/models/{id}/unload[?force=true] */
    unloadModel: async function unloadModel(c: Context<AppEnv>, id: string) {
      const started = Date.now();
      await deps.scheduler.unload(id, { force: c.req.query('force') === 'true' });
      return c.json({ model: id, action: 'unload', status: deps.scheduler.snapshotOf(id)!.status, durationMs: Date.now() - started });
    },
  };
}

export function describeModels(config: SwapdockConfig, scheduler: Scheduler) {
  return {
    gpus: scheduler.gpuDevices ?? null,
    /** The pool: each engine's GPUs, and why it is unreachable when it is (one entry without a pool). */
    engines: scheduler.engineStates().map((e) => ({
      name: e.name,
      gpus: e.gpus ?? null,
      reachable: e.unavailable === undefined,
      ...(e.unavailable === undefined ? {} : { unavailable: e.unavailable, downSince: new Date(e.downSince!).toISOString() }),
    })),
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
        // How it sleeps (never the tabbyAPI admin key or load body); null = it is stopped instead.
        sleep: model.sleep ? { kind: model.sleep.kind, level: model.sleep.level, memoryBytes: model.sleep.memoryBytes, vramBytes: model.sleep.vramBytes, ttlMs: model.sleep.ttlMs } : null,
        sleepingSince: state.sleepingSince ? new Date(state.sleepingSince).toISOString() : null,
        env: redactedEnv(model), // secret values as "[redacted]"
      };
    }),
  };
}
