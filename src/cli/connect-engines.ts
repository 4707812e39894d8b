// The engines of the config, connected: one DockerRuntime per engine (Docker or Podman, local
// or remote), its GPUs (from the config, or detected with nvidia-smi for a config with `engine:`)
// and its host's memory. With one engine, an engine that does not answer stops the start-up; a
// pool starts with the engines that answer and uses the others as soon as they do.
import type { Logger } from 'pino';
import { formatSize } from '../config/duration.js';
import { checkPlacement } from '../config/check-placement.js';
import { ConfigError } from '../config/load-config.js';
import type { SwapdockConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { ContainerRuntime, EngineInfo } from '../runtime/container-runtime.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { devicesFrom, type GpuInventory } from '../runtime/gpu-inventory.js';
import type { EngineMember } from '../scheduler/engine-members.js';

export interface ConnectOptions {
  config: SwapdockConfig;
  log: Logger;
  /** The config in force (a reload may rotate registry credentials). */
  current: () => SwapdockConfig;
  inventory: GpuInventory;
  /** Runtimes to use instead of connecting (tests): by engine name, or the one engine's. */
  runtimes?: Record<string, ContainerRuntime>;
}

export async function connectEngines({ config, log, current, inventory, runtimes }: ConnectOptions): Promise<EngineMember[]> {
  const members: EngineMember[] = [];
  const several = config.engines.length > 1;
  for (const engine of config.engines) {
    const registryAuth = () => (current().engines.find((e) => e.name === engine.name) ?? engine).registryAuth;
    const runtime = runtimes?.[engine.name] ?? new DockerRuntime({ host: engine.host, address: engine.address, tls: engine.tls, log: log.child({ engine: engine.name }), registryAuth });
    let info: EngineInfo | undefined;
    try {
      info = await runtime.engineInfo();
      const where = runtime instanceof DockerRuntime ? ` at ${runtime.target}` : '';
      log.info({ engine: engine.name, kind: info.kind, version: info.version, gpuSupport: info.gpuSupport }, `Connected to ${several ? `engine '${engine.name}': ` : ''}${info.kind} ${info.version}${where}`);
    } catch (err) {
      if (!several) throw err;
      // Marked unreachable by the scheduler's adoption; its heartbeat brings it in later.
      log.warn({ engine: engine.name, err: errorMessage(err) }, `Engine '${engine.name}' does not answer (${errorMessage(err)}); starting without it`);
    }
    const local = engine.host === undefined || engine.host.startsWith('unix://');
    const gpus = engine.gpus ?? (config.pool ? undefined : await detectGpus(inventory, config, log));
    members.push({ name: engine.name, runtime, gpus, localGpus: local, memoryBytes: info?.memoryBytes });
  }
  return members;
}

async function detectGpus(inventory: GpuInventory, config: SwapdockConfig, log: Logger) {
  const usage = await inventory.read();
  const usesGpus = [...config.models.values()].some((m) => m.gpus !== undefined);
  if (!usage) {
    if (usesGpus) log.info('No GPU list in the config and no nvidia-smi: GPU models are exclusive (one at a time)');
    return undefined;
  }
  const devices = devicesFrom(usage);
  log.info({ gpus: devices }, `Found GPUs with nvidia-smi: ${devices.map((d) => `${d.id} (${formatSize(d.vramBytes)})`).join(', ')}`);
  const models = Object.fromEntries([...config.models.values()].map((m) => [m.id, { gpus: m.gpus, vram: m.vramBytes, conflicts: m.conflicts }]));
  const issues = checkPlacement({ gpus: devices.map((d) => ({ id: d.id, vram: d.vramBytes })), models });
  if (issues.length) throw new ConfigError('The config, checked against the detected GPUs,', issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return devices;
}
