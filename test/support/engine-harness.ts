// Runs a whole swapdock (real DockerRuntime, real Node server) against a real engine, with the
// fake-model image and a per-run instance name so cleanup never touches anything else.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY } from '../../src/runtime/labels.js';
import { silentLog } from './app-harness.js';
import { after, before } from 'node:test';
import { cleanupByLabel, requireEngine, type EngineName } from './engines.js';
import { ensureFakeModelImage } from './fake-model-image.js';

export interface EngineSwapdock extends RunningServer {
  docker: Docker;
  instance: string;
  /** Containers of this run on the engine, any state. */
  containers(): Promise<Docker.ContainerInfo[]>;
  cleanup(): Promise<void>;
}

export function runInstance(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** `yaml` may use {{IMAGE}}; `instance` is set here. */
export async function startOnEngine(socketPath: string, image: string, yaml: string, instance = runInstance('it')): Promise<EngineSwapdock> {
  const config = parseConfigText(`instance: ${instance}\nlisten: 127.0.0.1:0\n${yaml.replaceAll('{{IMAGE}}', image)}`, 'test config', {});
  const runtime = new DockerRuntime({ host: `unix://${socketPath}`, log: silentLog });
  const running = await startServer({ config, log: silentLog, runtime });
  const docker = new Docker({ socketPath });
  const labels = { [LABEL_MANAGED_BY]: 'swapdock', [LABEL_INSTANCE]: instance };
  const containers = () =>
    docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  return {
    ...running,
    docker,
    instance,
    containers,
    cleanup: async () => {
      await running.shutdown().catch(() => undefined);
      await cleanupByLabel(socketPath, labels);
    },
  };
}

export function chatBody(model: string, extra: Record<string, unknown> = {}) {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }) };
}

/** Model names of the running containers of this run, sorted. */
export async function runningModels(sd: EngineSwapdock): Promise<string[]> {
  return (await sd.containers()).filter((c) => c.State === 'running').map((c) => c.Labels['io.swapdock.model']!).sort();
}

/** The container of a loaded model, and the environment its backend sees (GET /fake/env). */
export async function inspectModel(sd: EngineSwapdock, model: string) {
  const inspect = await sd.docker.getContainer(sd.scheduler.snapshotOf(model)!.containerId!).inspect();
  const port = inspect.NetworkSettings.Ports['8000/tcp']![0]!.HostPort;
  const env = (await (await fetch(`http://127.0.0.1:${port}/fake/env`)).json()) as Record<string, string>;
  return { inspect, env };
}

export interface EngineFixture {
  /** Undefined when the engine is missing and skipping was allowed (never in CI). */
  sd?: EngineSwapdock;
  image: string;
  socketPath: string;
}

/**
 * Registers before/after hooks that run one swapdock on `engine` for the enclosing suite.
 * `beforeCleanup` runs first in `after` (e.g. to bring a stopped engine back).
 */
export function useSwapdockOnEngine(engine: EngineName, yaml: string, beforeCleanup?: () => Promise<void>): EngineFixture {
  const fixture: EngineFixture = { image: '', socketPath: '' };
  before(async () => {
    const found = await requireEngine(engine);
    if (!found) return;
    fixture.socketPath = found.socketPath;
    fixture.image = await ensureFakeModelImage(found);
    fixture.sd = await startOnEngine(found.socketPath, fixture.image, yaml);
  });
  after(async () => {
    await beforeCleanup?.();
    await fixture.sd?.cleanup();
  });
  return fixture;
}
