// Turns a model's config into the engine-neutral ContainerSpec (pure; no engine calls).
import { createHash } from 'node:crypto';
import type { ModelConfig } from '../config/schema.js';
import type { ContainerSpec, GpuRequest } from './container-runtime.js';
import { LABEL_DEVICES, LABEL_MODEL, LABEL_SPEC_HASH, ownershipLabels } from './labels.js';

export interface SpecContext {
  instance: string;
  network: string;
}

export function gpuRequestFor(gpus: ModelConfig['gpus']): GpuRequest | undefined {
  if (gpus === undefined) return undefined;
  if (gpus === 'all') return { kind: 'all' };
  if (typeof gpus === 'number') return { kind: 'count', count: gpus };
  return { kind: 'ids', ids: gpus };
}

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; ids that need cleaning get a hash so two ids never share a name. */
export function containerNameFor(instance: string, modelId: string): string {
  const cleaned = modelId.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-_.]+/, '');
  const suffix = cleaned === modelId ? '' : `-${shortHash(modelId, 6)}`;
  return `swapdock-${instance}-${cleaned}${suffix}`;
}

/**
 * `devices`: GPUs the scheduler chose (with a GPU inventory); they replace the model's own
 * `gpus` request and reach the container as device ids and NVIDIA_VISIBLE_DEVICES.
 */
export function buildContainerSpec(model: ModelConfig, context: SpecContext, devices?: string[]): ContainerSpec {
  const chosen = devices?.length ? devices : undefined;
  const env = { ...sleepEnv(model), ...model.env };
  const spec: Omit<ContainerSpec, 'labels'> = {
    name: containerNameFor(context.instance, model.id),
    image: model.image,
    pull: model.pull,
    command: model.command,
    entrypoint: model.entrypoint,
    env: chosen ? { ...env, NVIDIA_VISIBLE_DEVICES: chosen.join(',') } : env,
    volumes: model.volumes,
    port: model.port,
    gpus: chosen ? { kind: 'ids', ids: chosen } : gpuRequestFor(model.gpus),
    shmSizeBytes: model.shmSize,
    memoryBytes: model.memoryBytes,
    stopTimeoutMs: model.stopTimeoutMs,
    network: context.network || undefined,
  };
  return {
    ...spec,
    labels: {
      ...ownershipLabels(context.instance),
      [LABEL_MODEL]: model.id,
      [LABEL_SPEC_HASH]: specHash(spec),
      ...(chosen ? { [LABEL_DEVICES]: chosen.join(',') } : {}),
    },
  };
}

/**
 * vLLM serves /sleep, /wake_up and /is_sleeping only in its development mode; a model that sleeps
 * the vLLM way gets it. The model's own env comes after, so a value the user set wins.
 */
function sleepEnv(model: ModelConfig): Record<string, string> {
  return model.sleep?.kind === 'vllm' ? { VLLM_SERVER_DEV_MODE: '1' } : {};
}

/** Hash of everything that shapes the container; key order does not matter. */
export function specHash(spec: Omit<ContainerSpec, 'labels'>): string {
  return shortHash(stableStringify(spec), 16);
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
