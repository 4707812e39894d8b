// Sleeping models (`models.*.sleep`, the engines' `sleepMemory`): the rules a zod shape alone cannot
// say — which keys belong to which kind, what sleeping needs from the model (GPUs, vram), the
// defaults that depend on the model, and what `swapdock check` warns about. The keys themselves,
// with their descriptions, are in schema.ts.
import { formatSize } from './duration.js';
import { allowedEngines } from './check-placement.js';
import type { SwapdockConfig } from './schema.js';

export type SleepKind = 'vllm' | 'tabbyapi' | 'http';

/** A request written as "POST /sleep". */
export interface HttpCall {
  method: string;
  path: string;
}

/** A model's `sleep` with every default applied: what the scheduler works from. */
export interface SleepConfig {
  kind: SleepKind;
  /** vllm: 1 = weights kept in host RAM (fast wake), 2 = dropped, reloaded on wake. 1 for the other kinds. */
  level: 1 | 2;
  /** Host RAM it holds while asleep; counts against the sleepMemory of the engine it sleeps on. */
  memoryBytes: number;
  /** VRAM it still holds on each of its GPUs while asleep (CUDA context). */
  vramBytes: number;
  /** Asleep this long → the container is stopped; 0 = never. */
  ttlMs: number;
  /** A sleep or wake call that takes longer has failed. */
  timeoutMs: number;
  /** tabbyapi: sent as x-admin-key. A secret: shown as "[redacted]" (see redact.ts). */
  adminKey?: string;
  /** tabbyapi: the JSON body of POST /v1/model/load (has model_name). */
  load?: Record<string, unknown>;
  /** http: puts the server to sleep. */
  sleepRequest?: HttpCall;
  /** http: wakes it. */
  wakeRequest?: HttpCall;
  /** http, optional: answers whether it is asleep. */
  statusRequest?: HttpCall;
}

/** `sleep` as zod parsed it, before the defaults that depend on the model. */
export interface ParsedSleep {
  kind: SleepKind;
  level?: 1 | 2;
  memory?: number;
  vram?: number;
  ttl?: number;
  timeout: number;
  adminKey?: string;
  load?: Record<string, unknown>;
  sleepRequest?: HttpCall;
  wakeRequest?: HttpCall;
  statusRequest?: HttpCall;
}

export const DEFAULT_SLEEP_TIMEOUT = '60s';
export const HOW_TO_WRITE_A_REQUEST = 'write METHOD /path, e.g. "POST /sleep"';
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** What parseHttpCall accepts, as a JSON Schema pattern (no flags: each method in either case) for the editor schema. */
export const HTTP_CALL_PATTERN = `^\\s*(?:${[...METHODS].map((m) => [...m].map((c) => `[${c}${c.toLowerCase()}]`).join('')).join('|')})\\s+/\\S*\\s*$`;

/** "POST /sleep" → { method: 'POST', path: '/sleep' }; undefined when it is not `METHOD /path`. */
export function parseHttpCall(text: string): HttpCall | undefined {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(text);
  if (!match || !METHODS.has(match[1]!.toUpperCase())) return undefined;
  return { method: match[1]!.toUpperCase(), path: match[2]! };
}

export function formatHttpCall(call: HttpCall): string {
  return `${call.method} ${call.path}`;
}

/** Keys that only one kind takes. */
const KIND_OF_KEY = {
  level: 'vllm',
  adminKey: 'tabbyapi',
  load: 'tabbyapi',
  sleepRequest: 'http',
  wakeRequest: 'http',
  statusRequest: 'http',
} as const satisfies Partial<Record<keyof ParsedSleep, SleepKind>>;

interface ModelShape {
  gpus?: unknown;
  vram?: number;
  sleep?: ParsedSleep;
}

export interface SleepIssue {
  /** Relative to the model. */
  path: (string | number)[];
  message: string;
}

/** What is wrong with a model's `sleep`, in words that say what to write instead. Never echoes adminKey. */
export function checkSleep(model: ModelShape): SleepIssue[] {
  const sleep = model.sleep;
  if (!sleep) return [];
  const issues: SleepIssue[] = [];
  const at = (key: string, message: string) => issues.push({ path: key ? ['sleep', key] : ['sleep'], message });
  if (model.gpus === undefined) {
    at('', 'sleeping frees GPUs, and this model has no gpus (it runs on the CPU): there is nothing to free. Remove sleep, or add gpus');
  }
  for (const [key, kind] of Object.entries(KIND_OF_KEY)) {
    if (sleep[key as keyof typeof KIND_OF_KEY] !== undefined && sleep.kind !== kind) {
      at(key, `${key} is for kind ${kind}, not ${sleep.kind}: remove it${key === 'level' ? '' : `, or write kind: ${kind}`}`);
    }
  }
  if (sleep.kind === 'tabbyapi') {
    if (sleep.load === undefined) {
      at('load', 'kind tabbyapi needs load: the JSON body of POST /v1/model/load that brings the model back on wake, e.g. load: { model_name: Qwen3-8B-exl2 }');
    } else if (typeof sleep.load.model_name !== 'string' || sleep.load.model_name === '') {
      at('load', 'load needs model_name, the model folder tabbyAPI loads on wake, e.g. load: { model_name: Qwen3-8B-exl2 }');
    }
  }
  if (sleep.kind === 'http') {
    if (!sleep.sleepRequest) at('sleepRequest', 'kind http needs sleepRequest, the request that puts the server to sleep, e.g. sleepRequest: "POST /sleep"');
    if (!sleep.wakeRequest) at('wakeRequest', 'kind http needs wakeRequest, the request that wakes the server, e.g. wakeRequest: "POST /wake"');
  }
  if (sleep.vram !== undefined && model.vram !== undefined && sleep.vram > model.vram) {
    at('vram', `sleep.vram (${formatSize(sleep.vram)}) is more than the model's vram (${formatSize(model.vram)}); asleep it holds less than awake: write at most ${formatSize(model.vram)}, usually about 1g`);
  }
  if (sleep.timeout === 0) at('timeout', 'a timeout of 0 fails every call: write e.g. 60s');
  return issues;
}

/**
 * The defaults. `memoryBytes` for vLLM level 1 is the weights it moves to host RAM: its vram times
 * its GPUs (the listed ids, the count, or for `all` `inventorySize`: the most GPUs listed by an
 * engine it may use, else one GPU); 0 without vram. Level 2, tabbyapi and http keep nothing in
 * host RAM by default.
 */
export function resolveSleep(sleep: ParsedSleep, model: { gpus?: 'all' | number | string[]; vramBytes?: number }, inventorySize?: number): SleepConfig {
  const level = sleep.level ?? 1;
  const gpuCount = Array.isArray(model.gpus) ? model.gpus.length : typeof model.gpus === 'number' ? model.gpus : (inventorySize ?? 1);
  const weights = sleep.kind === 'vllm' && level === 1 && model.vramBytes !== undefined ? model.vramBytes * gpuCount : 0;
  const { kind, adminKey, load, sleepRequest, wakeRequest, statusRequest } = sleep;
  return {
    kind,
    level,
    memoryBytes: sleep.memory ?? weights,
    vramBytes: sleep.vram ?? 0,
    ttlMs: sleep.ttl ?? 0,
    timeoutMs: sleep.timeout,
    ...(adminKey !== undefined ? { adminKey } : {}),
    ...(load !== undefined ? { load } : {}),
    ...(sleepRequest ? { sleepRequest } : {}),
    ...(wakeRequest ? { wakeRequest } : {}),
    ...(statusRequest ? { statusRequest } : {}),
  };
}

const SLEEP_MODE_FLAG = /^--enable-sleep-mode(=(true|1))?$/;

/** Whether vLLM is started with --enable-sleep-mode (as an argument, or inside a shell command line). */
export function hasSleepModeFlag(args: readonly string[]): boolean {
  return args.some((arg) => arg.split(/\s+/).some((word) => SLEEP_MODE_FLAG.test(word)));
}

/**
 * What `swapdock check` warns about: sleep settings that load but will not work as meant. The
 * sleepMemory of each engine is compared with the sleepers that may run there; a pool's engines
 * are named `engines[i].sleepMemory`, the one engine of `engine:` `engine.sleepMemory`.
 */
export function sleepWarnings(config: Pick<SwapdockConfig, 'engines' | 'pool' | 'models'>): string[] {
  const warnings: string[] = [];
  const sleepers = [...config.models.values()].filter((m) => m.sleep);
  const limitName = config.pool ? 'the sleepMemory of its engines' : 'engine.sleepMemory';
  for (const model of sleepers) {
    const sleep = model.sleep!;
    if (sleep.kind !== 'vllm') continue;
    if (!hasSleepModeFlag([...(model.entrypoint ?? []), ...(model.command ?? [])])) {
      warnings.push(
        `models.${model.id}: sleep.kind is vllm but its command lacks --enable-sleep-mode. vLLM refuses /sleep without it, ` +
          'so the model would be stopped instead of put to sleep. Add --enable-sleep-mode to its command.',
      );
    }
    if (sleep.level === 1 && sleep.memoryBytes === 0 && model.vramBytes === undefined) {
      warnings.push(
        `models.${model.id}: sleep.memory is 0. At level 1 vLLM keeps the weights in host RAM, and without the model's vram ` +
          `swapdock cannot tell how much: set sleep.memory (about the size of the weights) so ${limitName} is respected.`,
      );
    }
  }
  config.engines.forEach((engine, index) => {
    const limit = engine.sleepMemory;
    if (limit === undefined) return;
    const here = sleepers.filter((m) => allowedEngines(m.engines, [engine]).length > 0);
    const total = here.reduce((sum, m) => sum + m.sleep!.memoryBytes, 0);
    if (total <= limit) return;
    const key = config.pool ? `engines[${index}].sleepMemory` : 'engine.sleepMemory';
    const each = here.filter((m) => m.sleep!.memoryBytes > 0).map((m) => `${m.id} ${formatSize(m.sleep!.memoryBytes)}`);
    warnings.push(
      `${key}: the sleep.memory of the models that can sleep${config.pool ? ` on engine '${engine.name}'` : ''} adds up to ${formatSize(total)} (${each.join(', ')}), ` +
        `more than ${key} (${formatSize(limit)}). Not an error: only the models that fit sleep at once, the others ` +
        `are stopped instead. Raise ${key} to keep them all asleep.`,
    );
  });
  return warnings;
}
