// GPU requests without a GPU: the GPU test dockerd has a fake
// NVIDIA hook, so DeviceRequests start and the container sees NVIDIA_VISIBLE_DEVICES; the main
// dockerd has none, so start must fail with a clear GpuUnsupportedError; Podman gets CDI
// devices from the fake spec scripts/engines.sh writes to /etc/cdi.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { request } from 'undici';
import type { ContainerInfo, ContainerSpec, GpuRequest } from '../../src/runtime/container-runtime.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { LABEL_SPEC_HASH } from '../../src/runtime/labels.js';
import { GpuUnsupportedError } from '../../src/runtime/runtime-errors.js';
import { waitForReady } from '../../src/runtime/wait-for-ready.js';
import { cleanupByLabel, requireEngine, type EngineName } from '../support/engines.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';
import { testRunLabels } from '../contract/runtime-contract.js';

let n = 0;

async function setup(engine: EngineName, t: TestContext) {
  const found = await requireEngine(engine, t);
  if (!found) return null;
  const { socketPath } = found;
  const runtime = new DockerRuntime({ host: `unix://${socketPath}` });
  const labels = await testRunLabels(runtime, 'gpu-spec');
  t.after(() => cleanupByLabel(socketPath, labels));
  const image = await ensureFakeModelImage({ socketPath });
  const spec = (gpus: GpuRequest): ContainerSpec => ({
    name: `swapdock-gpu-${labels['io.swapdock.test-run']}-${++n}`, image, pull: 'never', env: {}, volumes: [], port: 8000,
    stopTimeoutMs: 2_000, labels: { ...labels, [LABEL_SPEC_HASH]: 'gpu' }, gpus,
  });
  return { runtime, docker: new Docker({ socketPath }), spec };
}

async function visibleDevices(runtime: DockerRuntime, info: ContainerInfo): Promise<string | undefined> {
  assert.ok(info.endpoint);
  await waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint, healthPath: '/health', timeoutMs: 15_000 });
  const res = await request(`http://${info.endpoint.host}:${info.endpoint.port}/fake/env`);
  assert.equal(res.statusCode, 200);
  return ((await res.body.json()) as Record<string, string>).NVIDIA_VISIBLE_DEVICES;
}

test('GPU test dockerd: DeviceRequests reach the engine and the container sees the GPUs', async (t) => {
  const env = await setup('gpuDocker', t);
  if (!env) return;
  const { runtime, docker, spec } = env;

  const created = await runtime.create(spec({ kind: 'ids', ids: ['1'] }));
  const raw = await docker.getContainer(created.id).inspect();
  assert.deepEqual(raw.HostConfig.DeviceRequests, [
    { Driver: 'nvidia', Count: 0, DeviceIDs: ['1'], Capabilities: [['gpu']], Options: null },
  ]);
  assert.equal(await visibleDevices(runtime, await runtime.start(created.id)), '1');

  const all = await runtime.create(spec({ kind: 'all' }));
  const rawAll = await docker.getContainer(all.id).inspect();
  assert.equal(rawAll.HostConfig.DeviceRequests?.[0]?.Count, -1);
  assert.equal(await visibleDevices(runtime, await runtime.start(all.id)), 'all');
});

test('main dockerd without the NVIDIA toolkit: start throws GpuUnsupportedError', async (t) => {
  const env = await setup('docker', t);
  if (!env) return;
  const { runtime, spec } = env;
  const created = await runtime.create(spec({ kind: 'count', count: 1 }));
  await assert.rejects(runtime.start(created.id), (err) => {
    assert.ok(err instanceof GpuUnsupportedError, String(err));
    assert.equal(err.code, 'gpu_unsupported');
    assert.match(err.message, /could not select device driver "nvidia"/);
    assert.match(err.message, /NVIDIA Container Toolkit/);
    assert.match(err.message, /remove `gpus`/);
    return true;
  });
  // The runtime stays mechanical: the container is left `created` for the caller to remove.
  assert.equal((await runtime.inspect(created.id))?.state, 'created');
  await runtime.remove(created.id);
});

test('Podman: GPUs are CDI devices, created through the libpod API', async (t) => {
  const env = await setup('podman', t);
  if (!env) return;
  const { runtime, spec } = env;

  const one = await runtime.start((await runtime.create(spec({ kind: 'ids', ids: ['1'] }))).id);
  assert.equal(one.state, 'running');
  assert.equal(await visibleDevices(runtime, one), '1');
  const all = await runtime.start((await runtime.create(spec({ kind: 'all' }))).id);
  assert.equal(await visibleDevices(runtime, all), 'all');

  // Created through libpod, the container must still honour the spec's stop timeout and init.
  await runtime.stop(one.id, 5_000);
  assert.equal((await runtime.inspect(one.id))?.exitCode, 0, 'SIGTERM reached the server: clean exit');

  // A device the CDI spec does not define is what a machine without the toolkit sees too.
  // Podman resolves CDI names at start, like Docker its device driver: create succeeds.
  const unknown = await runtime.create(spec({ kind: 'ids', ids: ['7'] }));
  await assert.rejects(runtime.start(unknown.id), (err) => {
    assert.ok(err instanceof GpuUnsupportedError, String(err));
    assert.match(err.message, /nvidia-ctk cdi generate/);
    return true;
  });
});
