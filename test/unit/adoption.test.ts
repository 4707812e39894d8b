import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInfo } from '../../src/runtime/container-runtime.js';
import { planAdoption } from '../../src/scheduler/adoption.js';

const container = (id: string, model: string, hash: string, extra: Partial<ContainerInfo> = {}, devices?: string): ContainerInfo => ({
  id, name: id, state: 'running', endpoint: { host: '127.0.0.1', port: 1 },
  labels: { 'io.swapdock.model': model, 'io.swapdock.spec-hash': hash, ...(devices ? { 'io.swapdock.devices': devices } : {}) }, ...extra,
});
const expected = (model: string, devices: string[]) => (model === 'gone' ? undefined : `${model}@${devices.join(',')}`);

describe('planAdoption', () => {
  it('adopts running containers whose spec is unchanged, on their recorded GPUs', () => {
    const plan = planAdoption([container('c1', 'a', 'a@'), container('c2', 'b', 'b@1', {}, '1')], expected);
    assert.deepEqual(plan.adopt.map((a) => [a.modelId, a.container.id, a.devices]), [['a', 'c1', []], ['b', 'c2', ['1']]]);
    assert.deepEqual(plan.remove, []);
  });
  it('removes changed, stopped, unconfigured and duplicate containers, saying why', () => {
    const plan = planAdoption(
      [
        container('changed', 'a', 'old'),
        container('stopped', 'b', 'b@', { state: 'exited' }),
        container('orphan', 'gone', 'x'),
        container('first', 'c', 'c@'),
        container('second', 'c', 'c@'),
      ],
      expected,
    );
    assert.deepEqual(plan.adopt.map((a) => a.container.id), ['first']);
    assert.deepEqual(
      plan.remove.map((r) => [r.container.id, r.reason]),
      [
        ['changed', "the config of 'a' changed"],
        ['stopped', 'it is exited, not running'],
        ['orphan', "model 'gone' is no longer configured"],
        ['second', "'c' already has a container"],
      ],
    );
  });
});
