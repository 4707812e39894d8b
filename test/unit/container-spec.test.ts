import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { buildContainerSpec, containerNameFor } from '../../src/runtime/container-spec.js';
import { compatCreateBody, libpodCreateBody } from '../../src/runtime/docker-create-body.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_MODEL, LABEL_SPEC_HASH } from '../../src/runtime/labels.js';

const config = parseConfigText(
  `models:
  gpu-all: { image: img, gpus: all, shmSize: 1g, command: [--port, "8000"], env: { A: "1" }, stopTimeout: 7s }
  gpu-two: { image: img, gpus: 2 }
  gpu-ids: { image: img, gpus: [1, "3"] }
  cpu: { image: img, port: 9000 }
  capped: { image: img, memory: 64m }
  capped-gpu: { image: img, gpus: 1, memory: 2g }
  vllm-sleeps: { image: img, gpus: 1, env: { A: "1" }, sleep: { kind: vllm } }
  vllm-sleeps-own-mode: { image: img, gpus: 1, env: { VLLM_SERVER_DEV_MODE: "0" }, sleep: { kind: vllm, level: 2 } }
  http-sleeps: { image: img, gpus: 1, sleep: { kind: http, sleepRequest: POST /sleep, wakeRequest: POST /wake } }
`,
  't',
  {},
);
const spec = (id: string, network = '') => buildContainerSpec(config.models.get(id)!, { instance: 'test', network });

describe('buildContainerSpec', () => {
  it('maps the model config onto the container spec', () => {
    const s = spec('gpu-all');
    assert.equal(s.image, 'img');
    assert.deepEqual(s.command, ['--port', '8000']);
    assert.deepEqual(s.env, { A: '1' });
    assert.equal(s.shmSizeBytes, 1024 ** 3);
    assert.equal(s.stopTimeoutMs, 7000);
    assert.equal(s.port, 8000);
    assert.equal(s.network, undefined);
    assert.equal(spec('cpu', 'llm').network, 'llm');
  });
  it('maps memory to memoryBytes, and on to both engines\' create bodies', () => {
    assert.equal(spec('capped').memoryBytes, 64 * 1024 ** 2);
    assert.equal(spec('cpu').memoryBytes, undefined, 'no limit unless configured');
    type Compat = { HostConfig: { Memory?: number } };
    assert.equal((compatCreateBody(spec('capped'), '127.0.0.1') as Compat).HostConfig.Memory, 64 * 1024 ** 2);
    assert.equal((compatCreateBody(spec('cpu'), '127.0.0.1') as Compat).HostConfig.Memory, undefined);
    type Libpod = { resource_limits?: { memory?: { limit?: number } } };
    assert.deepEqual((libpodCreateBody(spec('capped-gpu'), '127.0.0.1') as Libpod).resource_limits, { memory: { limit: 2 * 1024 ** 3 } });
    assert.equal((libpodCreateBody(spec('gpu-all'), '127.0.0.1') as Libpod).resource_limits, undefined);
    const raised = buildContainerSpec({ ...config.models.get('capped')!, memoryBytes: 128 * 1024 ** 2 }, { instance: 'test', network: '' });
    assert.notEqual(raised.labels[LABEL_SPEC_HASH], spec('capped').labels[LABEL_SPEC_HASH], 'a new limit means a new container');
  });
  it('turns on vLLM\'s dev mode (its /sleep and /wake_up) for a model that sleeps the vLLM way, unless the user set it', () => {
    assert.deepEqual(spec('vllm-sleeps').env, { A: '1', VLLM_SERVER_DEV_MODE: '1' });
    assert.deepEqual(spec('vllm-sleeps-own-mode').env, { VLLM_SERVER_DEV_MODE: '0' }, 'theirs wins');
    assert.deepEqual(spec('http-sleeps').env, {});
    assert.deepEqual(spec('gpu-all').env, { A: '1' });
    const placed = buildContainerSpec(config.models.get('vllm-sleeps')!, { instance: 'test', network: '' }, ['0']);
    assert.deepEqual(placed.env, { A: '1', VLLM_SERVER_DEV_MODE: '1', NVIDIA_VISIBLE_DEVICES: '0' });
    assert.deepEqual(config.models.get('vllm-sleeps')!.env, { A: '1' }, 'the model config is left alone');
    type Compat = { Env?: string[] };
    assert.ok((compatCreateBody(spec('vllm-sleeps'), '127.0.0.1') as Compat).Env?.includes('VLLM_SERVER_DEV_MODE=1'));
  });
  it('turns gpus into engine-neutral requests', () => {
    assert.deepEqual(spec('gpu-all').gpus, { kind: 'all' });
    assert.deepEqual(spec('gpu-two').gpus, { kind: 'count', count: 2 });
    assert.deepEqual(spec('gpu-ids').gpus, { kind: 'ids', ids: ['1', '3'] });
    assert.equal(spec('cpu').gpus, undefined);
  });
  it('labels ownership, model and a spec hash that follows the config', () => {
    const s = spec('cpu');
    assert.equal(s.labels[LABEL_MANAGED_BY], 'swapdock');
    assert.equal(s.labels[LABEL_INSTANCE], 'test');
    assert.equal(s.labels[LABEL_MODEL], 'cpu');
    assert.match(s.labels[LABEL_SPEC_HASH]!, /^[0-9a-f]{16}$/);
    assert.equal(spec('cpu').labels[LABEL_SPEC_HASH], s.labels[LABEL_SPEC_HASH], 'stable across builds');
    assert.notEqual(spec('cpu', 'llm').labels[LABEL_SPEC_HASH], s.labels[LABEL_SPEC_HASH], 'changes with the spec');
  });
});

describe('containerNameFor', () => {
  it('is deterministic and valid for the engine', () => {
    assert.equal(containerNameFor('default', 'qwen-coder'), 'swapdock-default-qwen-coder');
    const odd = containerNameFor('default', 'Qwen/Coder:7B');
    assert.match(odd, /^swapdock-default-qwen-coder-7b-[0-9a-f]{6}$/);
    assert.notEqual(containerNameFor('default', 'a/b'), containerNameFor('default', 'a:b'));
  });
});
