// GPU swapping end to end on a test dockerd with a fake NVIDIA hook: GPU models are exclusive,
// each container gets the devices its config names, and CPU models run beside them.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { requireEngine } from '../support/engines.js';
import { chatBody, inspectModel, runningModels, startOnEngine, useSwapdockOnEngine } from '../support/engine-harness.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s }
models:
  big: { image: {{IMAGE}}, pull: never, gpus: all }
  small: { image: {{IMAGE}}, pull: never, gpus: [1] }
  embed: { image: {{IMAGE}}, pull: never }
`;

describe('GPU swapping on an engine with the NVIDIA runtime', () => {
  const fixture = useSwapdockOnEngine('gpuDocker', MODELS);

  const running = () => runningModels(fixture.sd!);
  const envOf = (model: string) => inspectModel(fixture.sd!, model);

  it('gives each GPU model the devices its config names', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('big'))).status, 200);
    const big = await envOf('big');
    assert.deepEqual(big.inspect.HostConfig.DeviceRequests?.[0]?.Capabilities, [['gpu']]);
    assert.equal(big.inspect.HostConfig.DeviceRequests?.[0]?.Count, -1);
    assert.equal(big.env.NVIDIA_VISIBLE_DEVICES, 'all');
  });

  it('runs CPU models beside a GPU model', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('embed'))).status, 200);
    assert.deepEqual(await running(), ['big', 'embed']);
    const embed = await envOf('embed');
    assert.equal(embed.inspect.HostConfig.DeviceRequests ?? null, null, 'no GPU for a CPU model');
  });

  it('swaps GPU models: the next one starts only after the previous one is gone', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('small'))).status, 200);
    assert.deepEqual(await running(), ['embed', 'small']);
    assert.equal((await fixture.sd.containers()).filter((c) => c.Labels['io.swapdock.model'] === 'big').length, 0);
    const small = await envOf('small');
    assert.deepEqual(small.inspect.HostConfig.DeviceRequests?.[0]?.DeviceIDs, ['1']);
    assert.equal(small.env.NVIDIA_VISIBLE_DEVICES, '1');
  });

  it('swaps back', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('big'))).status, 200);
    assert.deepEqual(await running(), ['big', 'embed']);
  });
});

describe('a GPU model on an engine without the NVIDIA runtime', () => {
  it('answers 503 saying the NVIDIA runtime is missing and how to fix it, leaving nothing', async (t: TestContext) => {
    const found = await requireEngine('docker', t);
    if (!found) return;
    const sd = await startOnEngine(found.socketPath, await ensureFakeModelImage(found), MODELS);
    try {
      const res = await fetch(`${sd.url}/v1/chat/completions`, chatBody('big'));
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as any;
      assert.match(error.message, /NVIDIA/);
      assert.match(error.message, /nvidia-container-toolkit|remove `?gpus/i);
      assert.equal((await sd.containers()).length, 0);
    } finally {
      await sd.cleanup();
    }
  });
});
