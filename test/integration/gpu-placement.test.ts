// VRAM placement on a real engine with fake GPUs: with a two-GPU inventory, models that fit run
// side by side on the devices the scheduler chose, and the containers get exactly those devices.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { chatBody, inspectModel, runningModels, useSwapdockOnEngine } from '../support/engine-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s }
gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }]
models:
  left: { image: {{IMAGE}}, pull: never, gpus: 1, vram: 16g }
  right: { image: {{IMAGE}}, pull: never, gpus: 1, vram: 16g }
  both: { image: {{IMAGE}}, pull: never, gpus: all, vram: 12g, pinned: false }
`;

describe('VRAM placement on an engine with the NVIDIA runtime', () => {
  const fixture = useSwapdockOnEngine('gpuDocker', MODELS);

  const running = () => runningModels(fixture.sd!);
  const devicesOf = async (model: string) => {
    const { inspect, env } = await inspectModel(fixture.sd!, model);
    return { requested: inspect.HostConfig.DeviceRequests?.[0]?.DeviceIDs, visible: env.NVIDIA_VISIBLE_DEVICES };
  };

  it('places two models that fit on different GPUs, side by side', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('left'))).status, 200);
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('right'))).status, 200);
    assert.deepEqual(await running(), ['left', 'right']);
    const left = await devicesOf('left');
    const right = await devicesOf('right');
    assert.equal(left.requested?.length, 1);
    assert.deepEqual([left.visible], left.requested);
    assert.deepEqual([right.visible], right.requested);
    assert.notEqual(left.visible, right.visible);
  });

  it('evicts both for a model that needs room on every GPU, and hands it all devices', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await fetch(`${fixture.sd.url}/v1/chat/completions`, chatBody('both'))).status, 200);
    assert.deepEqual(await running(), ['both']);
    const both = await devicesOf('both');
    assert.deepEqual(both.requested, ['0', '1']);
    assert.equal(both.visible, '0,1');
    const api = (await (await fetch(`${fixture.sd.url}/api/models`)).json()) as { models: { id: string; devices: string[] }[] };
    assert.deepEqual(api.models.find((m) => m.id === 'both')!.devices, ['0', '1']);
  });
});
