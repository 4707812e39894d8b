// What `swapdock check` prints: each model's container as the engine would receive it, and
// warnings about settings that load but will not work as meant.
import { stringify } from 'yaml';
import { formatDuration, formatSize } from '../config/duration.js';
import type { SleepConfig, SwapdockConfig } from '../config/schema.js';
import { formatHttpCall, sleepWarnings } from '../config/sleep-schema.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { redactedAuth, redactedEnv, redactedRegistryAuth, redactedSleep } from '../config/redact.js';

export function describeConfig(config: SwapdockConfig, source: string, asJson: boolean): string {
  const models = [...config.models.values()].map((model) => {
    const spec = buildContainerSpec(model, { instance: config.instance, network: config.engine.network });
    return {
      model: model.id,
      aliases: model.aliases,
      upstreamModel: model.upstreamModel ?? model.id,
      container: {
        name: spec.name,
        image: spec.image,
        pull: spec.pull,
        ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
        command: spec.command ?? [],
        port: spec.port,
        reachedAt: spec.network ? `${spec.name}:${spec.port} on network ${spec.network}` : `127.0.0.1:<random port> → ${spec.port}`,
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
    gpus: config.gpus?.map((g) => `${g.id}: ${formatSize(g.vramBytes)}`) ?? 'detected with nvidia-smi at start-up; without it GPU models are exclusive',
    maxLoaded: config.maxLoaded ?? 'no cap',
    queue: { maxWait: formatDuration(config.queue.maxWaitMs), heartbeat: formatDuration(config.queue.heartbeatMs) },
    swap: { policy: config.swap.policy, maxWait: formatDuration(config.swap.maxWaitMs) },
    auth: config.auth.keys.length ? redactedAuth(config) : 'no API keys: every request is allowed',
    metrics: { public: config.metrics.public },
    cors: { origins: config.cors.origins.length ? config.cors.origins : 'off' },
    limits: { maxBody: formatSize(config.limits.maxBodyBytes), maxHeaderSize: formatSize(config.limits.maxHeaderBytes) },
    engine: {
      host: config.engine.host ?? 'DOCKER_HOST or the default Docker/Podman socket',
      network: config.engine.network || `none (ports published on ${config.engine.address ?? "the engine host's address (127.0.0.1 for a socket)"})`,
      ...(config.engine.tls ? { tls: config.engine.tls } : {}),
      // Passwords show as "[redacted]".
      registryAuth: config.engine.registryAuth.length
        ? redactedRegistryAuth(config)
        : "none: pulls use the Docker config (~/.docker/config.json) of swapdock's user, else are anonymous",
      sleepMemory: config.engine.sleepMemory === undefined ? "the engine's total memory minus 8 GiB" : formatSize(config.engine.sleepMemory),
    },
    models,
  };
  if (asJson) return JSON.stringify({ ...summary, warnings }, null, 2);
  const warningLines = warnings.map((w) => `# warning: ${w}\n`).join('');
  return `# ${source} is valid: ${models.length} model(s)${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n${warningLines}${stringify(summary)}`;
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
