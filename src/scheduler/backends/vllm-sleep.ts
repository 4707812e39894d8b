// Sleep and wake for vLLM (`--enable-sleep-mode`, with VLLM_SERVER_DEV_MODE=1 for the routes).
// Level 1 offloads the weights to host RAM; level 2 discards them, so waking reallocates the
// weights, reloads them in place, then the KV cache, as vLLM's sleep-mode docs prescribe (a plain
// /wake_up after level 2 leaves garbage in the weights). Every sleep and wake is checked with
// GET /is_sleeping: vLLM answers 200 to a sleep it did not carry out.

import type { Endpoint } from '../../runtime/container-runtime.js';
import type { SleepConfig } from '../../config/schema.js';
import type { SleepControl } from './sleep-control.js';
import type { SleepPhase } from './sleep-call-error.js';
import { SleepCallError } from './sleep-call-error.js';
import { isRecord, parseJson, runSleepOperation, type SleepOperation, type SleepRequest } from './sleep-operation.js';

/**
 * vLLM's dev-mode routes (registered only with VLLM_SERVER_DEV_MODE=1: the sleep, cache, RPC,
 * server-info and RLHF routers of vllm/entrypoints/serve/dev), then its other control routes
 * (elastic expert-parallel scaling, the profiler): none may be reached through a passthrough,
 * which could put a model to sleep behind the scheduler's back or change the server under it.
 */
export const VLLM_CONTROL_PATHS: readonly string[] = Object.freeze([
  // dev mode: sleep
  '/sleep',
  '/wake_up',
  '/is_sleeping',
  // dev mode: caches
  '/reset_prefix_cache',
  '/reset_mm_cache',
  '/reset_encoder_cache',
  // dev mode: RPC into the workers, server configuration
  '/collective_rpc',
  '/server_info',
  '/reconfigure',
  // dev mode: RLHF (pausing generation, weight updates)
  '/pause',
  '/resume',
  '/is_paused',
  '/abort_requests',
  '/init_weight_transfer_engine',
  '/start_weight_update',
  '/start_draft_weight_update',
  '/update_weights',
  '/finish_weight_update',
  '/update_weight_version',
  '/weight_info',
  '/get_world_size',
  // not dev mode, but control: elastic EP scaling and the profiler
  '/scale_elastic_ep',
  '/is_scaling_elastic_ep',
  '/start_profile',
  '/stop_profile',
  // runtime LoRA loading (with VLLM_ALLOW_RUNTIME_LORA_UPDATING): changes what every client gets
  '/v1/load_lora_adapter',
  '/v1/unload_lora_adapter',
]);

const IS_SLEEPING: SleepRequest = { method: 'GET', path: '/is_sleeping' };

export class VllmSleepControl implements SleepControl {
  readonly controlPaths = VLLM_CONTROL_PATHS;

  constructor(private readonly config: Pick<SleepConfig, 'level' | 'timeoutMs'>) {}

  sleep(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('sleep', endpoint, signal, async (op) => {
      await op.expectOk({ method: 'POST', path: `/sleep?level=${this.config.level}` });
      await expectSleeping(op, true, `POST /sleep?level=${this.config.level} answered 2xx`);
    });
  }

  wake(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('wake', endpoint, signal, async (op) => {
      if (this.config.level === 1) {
        await op.expectOk({ method: 'POST', path: '/wake_up' });
      } else {
        await op.expectOk({ method: 'POST', path: '/wake_up?tags=weights' });
        await op.expectOk({ method: 'POST', path: '/collective_rpc', json: { method: 'reload_weights' } });
        await op.expectOk({ method: 'POST', path: '/wake_up?tags=kv_cache' });
        await resetPrefixCache(op);
      }
      await expectSleeping(op, false, 'the wake calls answered 2xx');
    });
  }

  isAsleep(endpoint: Endpoint, signal?: AbortSignal): Promise<boolean> {
    return this.run('status', endpoint, signal, readSleeping);
  }

  private run<T>(phase: SleepPhase, endpoint: Endpoint, signal: AbortSignal | undefined, fn: (op: SleepOperation) => Promise<T>): Promise<T> {
    return runSleepOperation({ server: 'vLLM', phase, endpoint, timeoutMs: this.config.timeoutMs, signal, hintFor }, fn);
  }
}

function hintFor(statusCode: number): string | undefined {
  return statusCode === 404
    ? 'vLLM serves its sleep routes only in dev mode: start it with the environment variable VLLM_SERVER_DEV_MODE=1 and the flag --enable-sleep-mode.'
    : undefined;
}

async function readSleeping(op: SleepOperation): Promise<boolean> {
  const answer = await op.expectOk(IS_SLEEPING);
  const value = parseJson(answer.text);
  if (isRecord(value) && typeof value.is_sleeping === 'boolean') return value.is_sleeping;
  throw op.badStatus(IS_SLEEPING, answer, `the answer is not {"is_sleeping": true|false}`);
}

async function expectSleeping(op: SleepOperation, expected: boolean, after: string): Promise<void> {
  const sleeping = await readSleeping(op);
  if (sleeping !== expected) {
    throw op.fail(IS_SLEEPING, `it says {"is_sleeping": ${sleeping}} although ${after}`, {
      hint: expected ? 'Is the server started with --enable-sleep-mode?' : undefined,
    });
  }
}

/** Recommended after a level-2 wake; the weights are back either way, so only a timeout or a cancel fails the wake. */
async function resetPrefixCache(op: SleepOperation): Promise<void> {
  try {
    await op.send({ method: 'POST', path: '/reset_prefix_cache' });
  } catch (err) {
    if (!(err instanceof SleepCallError) || err.timedOut) throw err;
  }
}
