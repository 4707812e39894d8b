// The start and stop sequences for one model's container. A failed start leaves no container
// behind: whatever was created is stopped and removed before the error is thrown.
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import { ModelStartError, SwapdockError, errorMessage } from '../errors.js';
import type { ContainerRuntime, ContainerSpec, Endpoint } from '../runtime/container-runtime.js';
import { ContainerConflictError } from '../runtime/runtime-errors.js';
import { waitForReady } from '../runtime/wait-for-ready.js';

const PULL_LOG_INTERVAL_MS = 3000;

export interface RunningContainer {
  id: string;
  endpoint: Endpoint;
}

export interface StartOptions {
  runtime: ContainerRuntime;
  model: ModelConfig;
  spec: ContainerSpec;
  log: Logger;
  signal?: AbortSignal;
  /** Pull progress, as often as it is logged (every few seconds). */
  onPull?: (message: string) => void;
  /** The container runs (not yet ready): its output can be followed from here. */
  onStarted?: (containerId: string) => void;
}

export async function startModelContainer({ runtime, model, spec, log, signal, onPull, onStarted }: StartOptions): Promise<RunningContainer> {
  const startedAt = Date.now();
  let containerId: string | undefined;
  try {
    // Engines report pull progress many times a second per layer: log it every few seconds.
    let lastProgressLogAt = 0;
    await runtime.ensureImage(spec, (p) => {
      if (Date.now() - lastProgressLogAt < PULL_LOG_INTERVAL_MS) return;
      lastProgressLogAt = Date.now();
      const percent = p.fraction === undefined ? '' : ` (${Math.round(p.fraction * 100)}%)`;
      log.info({ image: p.image, status: p.status, fraction: p.fraction }, `Pulling image ${p.image}: ${p.status}${percent}`);
      onPull?.(`Pulling image ${p.image}: ${p.status}${percent}`);
    });
    containerId = (await createFresh(runtime, model, spec, log)).id;
    const info = await runtime.start(containerId);
    onStarted?.(containerId);
    if (!info.endpoint) throw new Error('the engine reported no address for the container');
    log.info({ containerId: short(containerId), endpoint: info.endpoint }, 'Container started; waiting until it is ready');
    await waitForReady({
      runtime,
      containerId,
      endpoint: info.endpoint,
      healthPath: model.health,
      timeoutMs: model.startTimeoutMs,
      signal,
    });
    log.info({ containerId: short(containerId), durationMs: Date.now() - startedAt }, `Model ready in ${Date.now() - startedAt} ms`);
    return { id: containerId, endpoint: info.endpoint };
  } catch (err) {
    if (containerId) await removeQuietly(runtime, containerId, spec.stopTimeoutMs, log);
    throw toStartError(model.id, err);
  }
}

/** Creates the container; one left over with an outdated spec under the same name is replaced. */
async function createFresh(runtime: ContainerRuntime, model: ModelConfig, spec: ContainerSpec, log: Logger) {
  try {
    const existing = await runtime.create(spec);
    if (existing.state !== 'created' && existing.state !== 'running') {
      // A stopped leftover with our spec: start from a clean container so old state cannot leak in.
      await runtime.remove(existing.id);
      return runtime.create(spec);
    }
    return existing;
  } catch (err) {
    if (!(err instanceof ContainerConflictError)) throw err;
    if (err.existingHash === undefined) {
      // Not one of ours (no spec-hash label): never remove a container swapdock did not create.
      throw new ModelStartError(
        model.id,
        `a container named '${spec.name}' already exists and was not created by swapdock; rename or remove it (docker rm ${spec.name}), or set another 'instance' in the config`,
        'container_name_taken',
      );
    }
    log.warn({ name: spec.name }, 'A container of ours with this name but an older spec exists; replacing it');
    await runtime.remove(spec.name);
    return runtime.create(spec);
  }
}

export async function stopModelContainer(runtime: ContainerRuntime, id: string, stopTimeoutMs: number): Promise<void> {
  await runtime.stop(id, stopTimeoutMs);
  await runtime.remove(id);
}

async function removeQuietly(runtime: ContainerRuntime, id: string, stopTimeoutMs: number, log: Logger): Promise<void> {
  try {
    await stopModelContainer(runtime, id, Math.min(stopTimeoutMs, 5000));
  } catch (err) {
    log.error({ containerId: short(id), err: errorMessage(err) }, 'Could not remove the container of a failed start; remove it by hand');
  }
}

function toStartError(modelId: string, err: unknown): ModelStartError {
  if (err instanceof ModelStartError) return err;
  const lastLogLines = (err as { lastLogLines?: unknown }).lastLogLines;
  const code = err instanceof SwapdockError ? err.code : 'model_start_failed';
  const message = errorMessage(err).replace(/\.$/, '');
  // Runtime errors may already quote the log lines in their message: quote them once.
  const logs = Array.isArray(lastLogLines) && !/log lines:/i.test(message) ? lastLogLines : [];
  const wrapped = new ModelStartError(modelId, message, code, logs);
  if (err instanceof SwapdockError) wrapped.retryAfterSeconds = err.retryAfterSeconds;
  return wrapped;
}

export function short(containerId: string): string {
  return containerId.slice(0, 12);
}
