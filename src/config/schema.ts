// The config schema is the single source of truth: types come from z.infer, defaults live here,
// and every field is described (the README's config reference follows it).
// Objects are strict so a misspelled key is an error, never silently ignored.
import { z } from 'zod';
import { HOW_TO_MAKE_A_KEY, MIN_KEY_LENGTH, weakKeyReason } from './key-strength.js';
import { allowedEngines, checkPlacement } from './check-placement.js';
import { checkEngineForms, engineSchema, hostGpus, modelEngines, poolSchema, resolveEngines, type EngineConfig } from './engine-schema.js';
import { LISTEN_ADDRESS } from './listen-address.js';
import { duration, size } from './value-schemas.js';
import { DEFAULT_SLEEP_TIMEOUT, HOW_TO_WRITE_A_REQUEST, HTTP_CALL_PATTERN, checkSleep, parseHttpCall, resolveSleep, type SleepConfig } from './sleep-schema.js';

export type { HttpCall, SleepConfig } from './sleep-schema.js';
export type { EngineConfig, GpuDevice } from './engine-schema.js';

const listenAddress = z
  .string()
  .regex(LISTEN_ADDRESS, 'write host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080')
  .describe('Address swapdock listens on (host:port). --listen overrides it.');

const gpus = z
  .union([
    z.literal('all'),
    z.number().int().min(1),
    z.array(z.union([z.string().min(1), z.number().int().min(0)]).transform(String)).min(1),
  ])
  .describe('GPUs for the container: all, a count, or a list of device ids. Absent = CPU only.');

const httpPath = z.string().regex(/^\//, "must start with '/'");

const httpCall = (what: string) =>
  z
    .string()
    .meta({ pattern: HTTP_CALL_PATTERN })
    .transform((value, ctx) => {
      const call = parseHttpCall(value);
      if (!call) {
        ctx.addIssue({ code: 'custom', message: `'${value}' is not a request; ${HOW_TO_WRITE_A_REQUEST}` });
        return z.NEVER;
      }
      return call;
    })
    .describe(what);

// Kind-specific keys are checked in checkSleep (sleep-schema.ts), which says which kind takes them.
const sleepSchema = z
  .strictObject({
    kind: z
      .enum(['vllm', 'tabbyapi', 'http'])
      .describe('How it is put to sleep and woken: vllm (its /sleep and /wake_up), tabbyapi (model unload and load), http (requests you name)'),
    level: z
      .literal([1, 2], { error: 'write 1 (weights kept in host RAM: fast wake) or 2 (weights dropped: reloaded on wake)' })
      .optional()
      .describe('vllm only: 1 = weights kept in host RAM (fast wake), 2 = dropped and reloaded on wake; default 1'),
    memory: size.optional().describe('Host RAM it holds while asleep, counted against the sleepMemory of its engine; default: vllm level 1 its vram times its GPUs, else 0'),
    vram: size.optional().describe('VRAM it still holds on each of its GPUs while asleep (CUDA context); default 0'),
    ttl: duration('Asleep this long, the container is stopped; 0 = never (the default)').optional(),
    timeout: duration('A sleep or wake call that takes longer has failed').prefault(DEFAULT_SLEEP_TIMEOUT),
    adminKey: z.string().min(1).optional().describe('tabbyapi only: admin key, sent as x-admin-key; redacted wherever the config is shown'),
    load: z.record(z.string(), z.unknown()).optional().describe('tabbyapi only, required: the JSON body of POST /v1/model/load that wakes it (with model_name)'),
    sleepRequest: httpCall('http only, required: the request that puts it to sleep, e.g. "POST /sleep"').optional(),
    wakeRequest: httpCall('http only, required: the request that wakes it, e.g. "POST /wake"').optional(),
    statusRequest: httpCall('http only, optional: the request that asks whether it is asleep, e.g. "GET /asleep"').optional(),
  })
  .describe('Put to sleep instead of stopped, to free its GPUs and wake faster than a start');

export const modelSchema = z
  .strictObject({
    image: z.string().min(1).describe('Container image, e.g. vllm/vllm-openai:v0.11.0'),
    command: z.array(z.string()).optional().describe("Arguments passed to the image's entrypoint"),
    entrypoint: z.array(z.string()).optional().describe("Replaces the image's entrypoint"),
    port: z.number().int().min(1).max(65535).default(8000).describe('Port the server listens on inside the container'),
    env: z
      .record(
        z.string(),
        z.union([
          z.union([z.string(), z.number(), z.boolean()]).transform(String),
          z.strictObject({ value: z.union([z.string(), z.number(), z.boolean()]).transform(String), secret: z.boolean().default(true) }),
        ]),
      )
      .default({})
      .describe('Environment of the container; write NAME: { value: ..., secret: true } to keep a value out of logs, /api output and the UI'),
    volumes: z.array(z.string().regex(/^[^:]+:[^:]+(:[^:]+)?$/, 'write source:target or source:target:ro')).default([]),
    gpus: gpus.optional(),
    engines: modelEngines.optional(),
    health: httpPath.default('/health').describe('Readiness path; 200 means ready'),
    ttl: duration('Idle time after the last response before the model is stopped; 0 = never').optional(),
    startTimeout: duration('How long a start may take until the model is ready').optional(),
    stopTimeout: duration('Grace period after SIGTERM before the container is killed').optional(),
    aliases: z.array(z.string().min(1)).default([]).describe('Other names clients may use for this model'),
    upstreamModel: z.string().min(1).optional().describe('Model name sent to the backend in the request body'),
    shmSize: size.optional().describe('Shared memory size, e.g. 8g'),
    memory: size.optional().describe('Memory limit of the container, e.g. 16g; the engine kills it (OOM) beyond'),
    pull: z.enum(['missing', 'always', 'never']).default('missing').describe('When to pull the image'),
    vram: size.optional().describe('VRAM the model needs on each of its GPUs, e.g. 20g; absent = the whole GPU'),
    pinned: z.boolean().default(false).describe('Never evicted to make room for another model'),
    maxConcurrent: z.number().int().min(1).default(32).describe('Requests forwarded to the model at once; more wait in its queue'),
    maxQueue: z.number().int().min(0).default(256).describe('Requests that may wait for the model; more get 429'),
    conflicts: z.array(z.string().min(1)).default([]).describe('Models that must never run at the same time as this one'),
    preload: z.boolean().default(false).describe('Load at start-up instead of on the first request'),
    baseline: z.boolean().default(false).describe('Load again whenever its GPUs fall idle; never unloaded for idleness'),
    params: z
      .strictObject({
        set: z.record(z.string(), z.unknown()).default({}).describe('Body fields forced to these values'),
        strip: z.array(z.string()).default([]).describe('Body fields removed before forwarding'),
      })
      .optional()
      .describe('Request shaping for JSON bodies; `model` is never touched'),
    unlisted: z.boolean().default(false).describe('Served, but not shown in /v1/models'),
    api: z
      .enum(['openai', 'anthropic', 'both'])
      .default('openai')
      .describe('What the backend speaks: openai (swapdock translates /v1/messages for it), anthropic, or both'),
    responses: z
      .enum(['passthrough', 'translate'])
      .default('passthrough')
      .describe('POST /v1/responses: passthrough (the backend has its own Responses API) or translate (swapdock translates it to /v1/chat/completions and back, for Codex CLI and other Responses-only clients)'),
    contextLength: z.number().int().min(1).optional().describe('Context length reported in /v1/models'),
    owner: z.string().min(1).default('swapdock').describe('owned_by reported in /v1/models'),
    sleep: sleepSchema.optional(),
  })
  .superRefine((model, ctx) => {
    for (const issue of checkSleep(model)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .describe('One model served by one container');

const defaultsSchema = z
  .strictObject({
    ttl: duration('Default idle TTL').prefault('15m'),
    startTimeout: duration('Default start timeout').prefault('10m'),
    stopTimeout: duration('Default stop timeout').prefault('30s'),
  })
  .prefault({});

const modelIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

export const configSchema = z
  .strictObject({
    listen: listenAddress.default('127.0.0.1:8080'),
    instance: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, ., _ and -')
      .default('default')
      .describe('Name recorded on every container; two swapdocks sharing an engine need different names'),
    shutdownTimeout: duration('How long SIGTERM waits for in-flight requests').prefault('30s'),
    engine: engineSchema.optional(),
    engines: poolSchema.optional(),
    defaults: defaultsSchema,
    gpus: hostGpus.optional(),
    maxLoaded: z.number().int().min(1).optional().describe('At most this many models loaded at once'),
    limits: z
      .strictObject({
        maxBody: size.prefault('64m').describe('Largest request body accepted; larger ones get 413'),
        maxHeaderSize: size.prefault('16k').describe('Largest request head (all headers) accepted; larger ones get 431'),
      })
      .prefault({}),
    auth: z
      .strictObject({
        keys: z
          .array(
            z.strictObject({
              name: z.string().min(1).describe('Who holds the key; used in logs instead of the key'),
              key: z.string().describe(`The secret, at least ${MIN_KEY_LENGTH} characters and no placeholder; write \${ENV_VAR} to read it from the environment`),
              models: z.array(z.string().min(1)).optional().describe('Model ids, aliases or globs (qwen-*) this key may use; absent = all'),
              admin: z.boolean().default(false).describe('May use /api/*, /ui and /metrics'),
            }),
          )
          .default([]),
      })
      .prefault({})
      .describe('API keys; with none configured every request is allowed'),
    metrics: z
      .strictObject({ public: z.boolean().default(false).describe('Serve /metrics without an admin key') })
      .prefault({}),
    cors: z
      .strictObject({
        origins: z.array(z.string().min(1)).default([]).describe("Origins allowed to call from a browser ('*' = any); empty = CORS off"),
      })
      .prefault({}),
    logs: z
      .strictObject({
        lines: z.number().int().min(10).default(1000).describe('Lines of output kept per container (and for swapdock itself) for /api/logs'),
      })
      .prefault({}),
    fallback: z.string().optional().describe('Model that serves requests for names that are not configured; off when absent'),
    queue: z
      .strictObject({
        maxWait: duration('Longest a request waits for its model before a 503').prefault('10m'),
        heartbeat: duration('Interval of SSE comments sent to a waiting streaming client').prefault('5s'),
      })
      .prefault({}),
    swap: z
      .strictObject({
        policy: z.enum(['grouped', 'fifo']).default('grouped').describe('grouped: serve the loaded model\'s queue first (no thrash); fifo: strict arrival order'),
        maxWait: duration('With grouped: the longest a request waits for a swap while another model is busy').prefault('30s'),
      })
      .prefault({}),
    models: z.record(
      z.string().regex(modelIdPattern, 'model ids use letters, digits and . _ : / @ + -'),
      modelSchema,
    ),
  })
  .superRefine((config, ctx) => {
    const owner = new Map<string, string>();
    for (const id of Object.keys(config.models)) owner.set(id, id);
    for (const [id, model] of Object.entries(config.models)) {
      model.aliases.forEach((alias, index) => {
        const taken = owner.get(alias);
        if (taken !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', id, 'aliases', index],
            message: `alias '${alias}' is already used by model '${taken}'; names must be unique`,
          });
        } else owner.set(alias, id);
      });
    }
    for (const issue of [...checkEngineForms(config), ...checkPlacement(config)]) ctx.addIssue({ code: 'custom', ...issue });
    config.auth.keys.forEach((entry, index) => {
      const weak = weakKeyReason(entry.key);
      if (weak) ctx.addIssue({ code: 'custom', path: ['auth', 'keys', index, 'key'], message: `the key of '${entry.name}' cannot be used: ${weak}. ${HOW_TO_MAKE_A_KEY}` });
    });
    if (config.fallback !== undefined && !owner.has(config.fallback)) {
      ctx.addIssue({ code: 'custom', path: ['fallback'], message: `'${config.fallback}' is not a configured model or alias` });
    }
  });

export type RawConfig = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;
export type ParsedModel = z.output<typeof modelSchema>;

/** A model with every default applied: what the scheduler and runtime work from. */
export interface ModelConfig extends Omit<ParsedModel, 'ttl' | 'startTimeout' | 'stopTimeout' | 'vram' | 'memory' | 'env' | 'sleep'> {
  id: string;
  env: Record<string, string>;
  /** Names of env entries marked secret: redacted wherever the config is shown. */
  secretEnv: string[];
  /** Per GPU; undefined = the model takes whole GPUs. */
  vramBytes?: number;
  /** Container memory limit; undefined = no limit. */
  memoryBytes?: number;
  ttlMs: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** Put to sleep instead of stopped; undefined = never sleeps. */
  sleep?: SleepConfig;
  /** Names of the engines it may run on; undefined = any engine of the pool. */
  engines?: string[];
}

export interface SwapdockConfig extends Omit<ParsedConfig, 'models' | 'defaults' | 'shutdownTimeout' | 'gpus' | 'queue' | 'swap' | 'limits' | 'engine' | 'engines'> {
  /** The engines models run on, in config order; always at least one. `engine:` + `gpus:` is the one engine named 'default'. */
  engines: EngineConfig[];
  /** Written with `engines:` (false for `engine:` + `gpus:`). */
  pool: boolean;
  limits: { maxBodyBytes: number; maxHeaderBytes: number };
  shutdownTimeoutMs: number;
  queue: { maxWaitMs: number; heartbeatMs: number };
  swap: { policy: 'grouped' | 'fifo'; maxWaitMs: number };
  defaults: { ttlMs: number; startTimeoutMs: number; stopTimeoutMs: number };
  models: Map<string, ModelConfig>;
}

export function resolveConfig(parsed: ParsedConfig): SwapdockConfig {
  const defaults = {
    ttlMs: parsed.defaults.ttl,
    startTimeoutMs: parsed.defaults.startTimeout,
    stopTimeoutMs: parsed.defaults.stopTimeout,
  };
  const { engines, pool } = resolveEngines(parsed);
  const models = new Map<string, ModelConfig>();
  for (const [id, { ttl, startTimeout, stopTimeout, vram, memory, env: rawEnv, sleep, ...rest }] of Object.entries(parsed.models)) {
    const env: Record<string, string> = {};
    const secretEnv: string[] = [];
    for (const [name, value] of Object.entries(rawEnv)) {
      if (typeof value === 'string') env[name] = value;
      else {
        env[name] = value.value;
        if (value.secret) secretEnv.push(name);
      }
    }
    models.set(id, {
      ...rest,
      id,
      env,
      secretEnv,
      vramBytes: vram,
      memoryBytes: memory,
      ttlMs: ttl ?? defaults.ttlMs,
      startTimeoutMs: startTimeout ?? defaults.startTimeoutMs,
      stopTimeoutMs: stopTimeout ?? defaults.stopTimeoutMs,
      ...(sleep ? { sleep: resolveSleep(sleep, { gpus: rest.gpus, vramBytes: vram }, largestGpuCount(allowedEngines(rest.engines, engines))) } : {}),
    });
  }
  const { models: _m, defaults: _d, shutdownTimeout, engine: _e, engines: _p, gpus: _g, queue, swap, limits, ...rest } = parsed;
  return {
    ...rest,
    engines,
    pool,
    shutdownTimeoutMs: shutdownTimeout,
    queue: { maxWaitMs: queue.maxWait, heartbeatMs: queue.heartbeat },
    swap: { policy: swap.policy, maxWaitMs: swap.maxWait },
    limits: { maxBodyBytes: limits.maxBody, maxHeaderBytes: limits.maxHeaderSize },
    defaults,
    models,
  };
}

/** The most GPUs any of these engines lists; undefined when none lists its GPUs. */
function largestGpuCount(engines: EngineConfig[]): number | undefined {
  const most = Math.max(0, ...engines.map((e) => e.gpus?.length ?? 0));
  return most > 0 ? most : undefined;
}
