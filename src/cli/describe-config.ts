// What `swapdock check` prints: the engines (one, or the pool), each model's container as the
// engine would receive it and the engines it may run on, and warnings about settings that load
// but will not work as meant.
import { stringify } from 'yaml';
import { formatDuration, formatSize } from '../config/duration.js';
import { allowedEngines } from '../config/check-placement.js';
import type { EngineConfig, SleepConfig, SwapdockConfig } from '../config/schema.js';
import { formatHttpCall, sleepWarnings } from '../config/sleep-schema.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { redactedAuth, redactedEnv, redactedRegistryAuth, redactedSleep } from '../config/redact.js';

export function describeConfig(config: SwapdockConfig, source: string, asJson: boolean): string {
  const models = [...config.models.values()].map((model) => {
    const engines = allowedEngines(model.engines, config.engines);
    // The container is the same on every engine but for the network it joins (and its devices).
    const spec = buildContainerSpec(model, { instance: config.instance, network: engines[0]?.network ?? '' });
    const reachedAt = (engine: EngineConfig) =>
      engine.network ? `${spec.name}:${spec.port} on network ${engine.network}` : `${publishedOn(engine) ?? '127.0.0.1'}:<random port> → ${spec.port}`;
    return {
      model: model.id,
      aliases: model.aliases,
      upstreamModel: model.upstreamModel ?? model.id,
      ...(config.pool ? { engines: engines.map((e) => e.name) } : {}),
      container: {
        name: spec.name,
        image: spec.image,
        pull: spec.pull,
        ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
        command: spec.command ?? [],
        port: spec.port,
        reachedAt: config.pool ? Object.fromEntries(engines.map((e) => [e.name, reachedAt(e)])) : reachedAt(engines[0]!),
        gpus: spec.gpus ?? 'none (CPU only)',
        // Secret values (marked secret, or named like one) show as "[redacted]".
        env: redactedEnv({ env: spec.env, secretEnv: model.secretEnv }),
        volumes: spec.volumes,
        ...(spec.shmSizeBytes ? { shmSizeBytes: spec.shmSizeBytes } : {}),
        labels: spec.labels,
      },
      readiness: `GET ${model.health} returns 200, within ${formatDuration(model.startTimeoutMs)}`,
      idleTtl: model.baseline ? 'never (baseline)' : model.ttlMs === 0 ? 'never unloaded' : formatDuration(model.ttlMs),
      stopTimeout: formatDuration(model.stopTimeoutMs),
      scheduling: {
        vramPerGpu: model.vramBytes === undefined ? (model.gpus === undefined ? 'none' : 'whole GPUs') : formatSize(model.vramBytes),
        pinned: model.pinned,
        preload: model.preload,
        baseline: model.baseline,
        maxConcurrent: model.maxConcurrent,
        maxQueue: model.maxQueue,
        conflicts: model.conflicts,
      },
      ...(model.sleep ? { sleep: describeSleep(model.sleep) } : {}),
    };
  });
  const warnings = sleepWarnings(config);
  const summary = {
    listen: config.listen,
    instance: config.instance,
    maxLoaded: config.maxLoaded ?? 'no cap',
    queue: { maxWait: formatDuration(config.queue.maxWaitMs), heartbeat: formatDuration(config.queue.heartbeatMs) },
    swap: { policy: config.swap.policy, maxWait: formatDuration(config.swap.maxWaitMs) },
    auth: config.auth.keys.length ? redactedAuth(config) : 'no API keys: every request is allowed',
    metrics: { public: config.metrics.public },
    cors: { origins: config.cors.origins.length ? config.cors.origins : 'off' },
    limits: { maxBody: formatSize(config.limits.maxBodyBytes), maxHeaderSize: formatSize(config.limits.maxHeaderBytes) },
    // Passwords show as "[redacted]".
    engines: config.engines.map((engine) => describeEngine(engine, config.pool)),
    models,
  };
  if (asJson) return JSON.stringify({ ...summary, warnings }, null, 2);
  const warningLines = warnings.map((w) => `# warning: ${w}\n`).join('');
  return `# ${source} is valid: ${models.length} model(s)${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n${warningLines}${stringify(summary)}`;
}

/** One engine of the pool (or the one engine of `engine:`); registry passwords show as "[redacted]". */
function describeEngine(engine: EngineConfig, pool: boolean) {
  return {
    name: engine.name,
    host: engine.host ?? 'DOCKER_HOST or the default Docker/Podman socket',
    address: publishedOn(engine) ?? '127.0.0.1 (for DOCKER_HOST tcp:// or ssh://: its host)',
    network: engine.network || 'none (model ports are published on the address)',
    ...(engine.tls ? { tls: engine.tls } : {}),
    gpus:
      engine.gpus?.map((g) => `${g.id}: ${formatSize(g.vramBytes)}`) ??
      (pool ? 'not listed: GPU models are exclusive on it' : 'detected with nvidia-smi at start-up; without it GPU models are exclusive'),
    sleepMemory: engine.sleepMemory === undefined ? "the engine's total memory minus 8 GiB" : formatSize(engine.sleepMemory),
    registryAuth: engine.registryAuth.length
      ? redactedRegistryAuth(engine)
      : "none: pulls use the Docker config (~/.docker/config.json) of swapdock's user, else are anonymous",
  };
}

/** Where model ports are published: `address`, else the host of a tcp:// or ssh:// engine.host, 127.0.0.1 for a socket; undefined = decided by DOCKER_HOST. */
function publishedOn(engine: EngineConfig): string | undefined {
  if (engine.address) return engine.address;
  if (!engine.host) return undefined;
  if (engine.host.startsWith('unix://') || !URL.canParse(engine.host)) return '127.0.0.1';
  return new URL(engine.host).hostname;
}

/** sleep.adminKey shows as "[redacted]". */
function describeSleep(sleep: SleepConfig) {
  const shown = redactedSleep(sleep);
  return {
    kind: shown.kind,
    ...(shown.kind === 'vllm' ? { level: shown.level === 1 ? '1 (weights kept in host RAM)' : '2 (weights dropped, reloaded on wake)' } : {}),
    hostMemory: formatSize(shown.memoryBytes),
    vramPerGpu: formatSize(shown.vramBytes),
    stoppedAfter: shown.ttlMs === 0 ? 'never' : formatDuration(shown.ttlMs),
    timeout: formatDuration(shown.timeoutMs),
    ...(shown.adminKey !== undefined ? { adminKey: shown.adminKey } : {}),
    ...(shown.load ? { load: shown.load } : {}),
    ...(shown.sleepRequest ? { sleepRequest: formatHttpCall(shown.sleepRequest) } : {}),
    ...(shown.wakeRequest ? { wakeRequest: formatHttpCall(shown.wakeRequest) } : {}),
    ...(shown.statusRequest ? { statusRequest: formatHttpCall(shown.statusRequest) } : {}),
  };
}
