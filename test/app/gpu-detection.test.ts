// GPUs detected at start-up when the config lists none, and one GPU load at a time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../../src/cli/start-server.js';
import type { GpuInventory } from '../../src/runtime/gpu-inventory.js';
import { startApp, chat, silentLog, testConfig } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const GIB = 1024 ** 3;
const twoDetectedGpus: GpuInventory = {
  read: async () => [
    { id: '0', totalBytes: 24 * GIB, usedBytes: 0 },
    { id: '1', totalBytes: 24 * GIB, usedBytes: 0 },
  ],
};

describe('GPU detection at start-up', () => {
  it('uses the GPUs nvidia-smi reports when the config lists none', async () => {
    const config = testConfig(`instance: app-detect\nlisten: 127.0.0.1:0\nmodels:\n  m: { image: fake-model:latest, gpus: 1, vram: 10g }\n`);
    const server = await startServer({ config, log: silentLog, runtime: new FakeRuntime(), inventory: twoDetectedGpus });
    try {
      assert.deepEqual(server.scheduler.gpuDevices, [{ id: '0', vramBytes: 24 * GIB }, { id: '1', vramBytes: 24 * GIB }]);
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('m'))).status, 200);
      assert.equal(server.scheduler.snapshotOf('m')!.devices.length, 1);
    } finally {
      await server.shutdown();
    }
  });

  it('refuses to start when a model could never fit on the detected GPUs', async () => {
    const config = testConfig(`instance: app-detect2\nlisten: 127.0.0.1:0\nmodels:\n  huge: { image: fake-model:latest, gpus: 1, vram: 40g }\n`);
    await assert.rejects(
      startServer({ config, log: silentLog, runtime: new FakeRuntime(), inventory: twoDetectedGpus }),
      /models\.huge\.vram.*needs 40 GiB per GPU/s,
    );
  });

  it('without a list and without nvidia-smi, GPU models are exclusive', async () => {
    const config = testConfig(`instance: app-detect3\nlisten: 127.0.0.1:0\nmodels:\n  m: { image: fake-model:latest, gpus: all }\n`);
    const server = await startServer({ config, log: silentLog, runtime: new FakeRuntime(), inventory: { read: async () => undefined } });
    try {
      assert.equal(server.scheduler.gpuDevices, undefined);
    } finally {
      await server.shutdown();
    }
  });
});

describe('GPU loads', () => {
  it('run one at a time, even for models that fit side by side', async () => {
    const h = await startApp(`gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }]
models:
  a: { image: fake-model:latest, gpus: 1, vram: 10g, env: { FAKE_READY_DELAY_MS: "300" } }
  b: { image: fake-model:latest, gpus: 1, vram: 10g, env: { FAKE_READY_DELAY_MS: "300" } }
  c: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "300" } }
`, { gpuSupport: true });
    try {
      let maxGpuStarting = 0;
      let cpuLoadedBesideGpu = false;
      const sampler = setInterval(() => {
        const starting = h.scheduler.snapshot().filter((s) => s.status === 'starting');
        maxGpuStarting = Math.max(maxGpuStarting, starting.filter((s) => s.usesGpu).length);
        if (starting.some((s) => !s.usesGpu) && starting.some((s) => s.usesGpu)) cpuLoadedBesideGpu = true;
      }, 5);
      const answers = await Promise.all(['a', 'b', 'c'].map((m) => h.request('/v1/chat/completions', chat(m))));
      clearInterval(sampler);
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
      assert.equal(maxGpuStarting, 1, 'never two GPU models loading at once');
      assert.ok(cpuLoadedBesideGpu, 'a CPU model does not wait for GPU loads');
      assert.deepEqual(h.scheduler.snapshot().map((s) => s.status), ['ready', 'ready', 'ready'], 'and both GPU models fit together');
    } finally {
      await h.close();
    }
  });
});
