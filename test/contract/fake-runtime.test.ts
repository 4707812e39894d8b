import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { ContainerEvent, ContainerSpec } from '../../src/runtime/container-runtime.js';
import { LABEL_SPEC_HASH } from '../../src/runtime/labels.js';
import { GpuUnsupportedError, ImageUnavailableError } from '../../src/runtime/runtime-errors.js';
import { waitForReady } from '../../src/runtime/wait-for-ready.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { runtimeContract } from './runtime-contract.js';

runtimeContract('FakeRuntime contract', async () => {
  const runtime = new FakeRuntime();
  return {
    runtime, image: 'fake-model:latest', labels: { 'io.swapdock.test': 'contract' }, cleanup: () => runtime.shutdown(),
    removeByHand: (id) => runtime.removeByHand(id),
  };
});

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: `fake-extra-${Math.random().toString(16).slice(2)}`, image: 'fake-model:latest', pull: 'never', env: {},
  volumes: [], port: 8000, stopTimeoutMs: 1_000, labels: { [LABEL_SPEC_HASH]: 'h' }, ...over,
});

test('FakeRuntime records specs and calls, and failNext injects one failure per call', async (t) => {
  const runtime = new FakeRuntime();
  t.after(() => runtime.shutdown());
  runtime.failNext('start', new Error('injected'));
  const s = spec({ env: { A: '1' } });
  const c = await runtime.create(s);
  await assert.rejects(runtime.start(c.id), /injected/);
  const info = await runtime.start(c.id);
  await runtime.stop(c.id, 1_000);
  await runtime.remove(c.id);
  assert.deepEqual(runtime.calls, { create: 1, start: 2, stop: 1, remove: 1 });
  assert.deepEqual(runtime.createdSpecs, [s]);
  assert.equal(info.state, 'running');
});

test('FakeRuntime GPUs: unsupported start fails like Docker; supported ones see NVIDIA_VISIBLE_DEVICES', async (t) => {
  const without = new FakeRuntime({ gpuSupport: false });
  const with_ = new FakeRuntime({ gpuSupport: true });
  t.after(() => Promise.all([without.shutdown(), with_.shutdown()]));
  const c = await without.create(spec({ gpus: { kind: 'all' } }));
  await assert.rejects(without.start(c.id), GpuUnsupportedError);
  assert.equal((await without.inspect(c.id))?.state, 'created', 'left for the caller to remove');
  assert.equal((await without.engineInfo()).gpuSupport, false);

  const g = await with_.start((await with_.create(spec({ gpus: { kind: 'ids', ids: ['0', '2'] } }))).id);
  await waitForReady({ runtime: with_, containerId: g.id, endpoint: g.endpoint!, healthPath: '/health', timeoutMs: 5_000 });
  const res = await request(`http://127.0.0.1:${g.endpoint!.port}/fake/env`);
  assert.equal(((await res.body.json()) as Record<string, string>).NVIDIA_VISIBLE_DEVICES, '0,2');
});

test('FakeRuntime images: a pretend registry serves pulls with progress; create needs the image', async () => {
  const runtime = new FakeRuntime({ images: [], registry: ['remote:1'] });
  await assert.rejects(runtime.create(spec()), ImageUnavailableError);
  const progress: string[] = [];
  await runtime.ensureImage(spec({ image: 'remote:1', pull: 'missing' }), (p) => progress.push(p.status));
  assert.ok(runtime.images.has('remote:1'));
  assert.ok(progress.length > 0);
  await assert.rejects(runtime.ensureImage(spec({ image: 'other:1', pull: 'always' })), ImageUnavailableError);
});

test('FakeRuntime kill, simulateOom and removeByHand: died events with 137 / oomKilled, removed; not counted as calls', async (t) => {
  const runtime = new FakeRuntime();
  t.after(() => runtime.shutdown());
  const events: ContainerEvent[] = [];
  const sub = runtime.watch({ [LABEL_SPEC_HASH]: 'h' }, { onEvent: (e) => events.push(e) });
  t.after(() => sub.close());
  const ready = async (id: string) => {
    const info = await runtime.start(id);
    await waitForReady({ runtime, containerId: id, endpoint: info.endpoint!, healthPath: '/health', timeoutMs: 5_000 });
  };
  const settle = () => new Promise((r) => setImmediate(r));
  const { id } = await runtime.create(spec());

  await ready(id);
  await runtime.kill(id);
  await settle();
  assert.deepEqual(events.map((e) => [e.kind, e.exitCode, e.oomKilled]), [['died', 137, false]]);
  assert.deepEqual([(await runtime.inspect(id))?.exitCode, (await runtime.inspect(id))?.oomKilled], [137, false]);

  await ready(id);
  await runtime.simulateOom(id);
  await settle();
  assert.deepEqual(events.map((e) => [e.kind, e.exitCode, e.oomKilled]).at(-1), ['died', 137, true]);
  assert.equal((await runtime.inspect(id))?.oomKilled, true);

  await ready(id);
  assert.equal((await runtime.inspect(id))?.oomKilled, undefined, 'a restart clears it (and it is only reported once exited)');
  await runtime.removeByHand(id);
  await settle();
  assert.deepEqual(events.slice(-2).map((e) => [e.kind, e.exitCode, e.oomKilled]), [['died', 137, false], ['removed', undefined, undefined]]);
  assert.ok(events.every((e) => e.containerId === id && e.labels[LABEL_SPEC_HASH] === 'h'));
  assert.equal(await runtime.inspect(id), undefined);
  assert.deepEqual(runtime.calls, { create: 1, start: 3, stop: 0, remove: 0 });
  await assert.rejects(runtime.kill(id), /not running/);
});

test("FakeRuntime passes the spec's command as the server's argv and its env as the environment: vLLM's sleep API needs both", async (t) => {
  const runtime = new FakeRuntime();
  t.after(() => runtime.shutdown());
  const isSleeping = async (over: Partial<ContainerSpec>) => {
    const info = await runtime.start((await runtime.create(spec(over))).id);
    await waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint!, healthPath: '/health', timeoutMs: 5_000 });
    const res = await request(`http://127.0.0.1:${info.endpoint!.port}/is_sleeping`);
    const body = await res.body.text();
    return { status: res.statusCode, body };
  };
  const sleepy = await isSleeping({ command: ['--enable-sleep-mode'], env: { VLLM_SERVER_DEV_MODE: '1' } });
  assert.equal(sleepy.status, 200);
  assert.deepEqual(JSON.parse(sleepy.body), { is_sleeping: false });
  assert.equal((await isSleeping({})).status, 404, 'neither');
  assert.equal((await isSleeping({ command: ['--enable-sleep-mode'] })).status, 404, 'the flag without VLLM_SERVER_DEV_MODE');
  assert.equal((await isSleeping({ env: { VLLM_SERVER_DEV_MODE: '1' } })).status, 404, 'VLLM_SERVER_DEV_MODE without the flag');
});

test("FakeRuntime: a model's own --port (or FAKE_PORT) does not move the server off the port the runtime reports", async (t) => {
  const runtime = new FakeRuntime();
  t.after(() => runtime.shutdown());
  const overs: Partial<ContainerSpec>[] = [
    { command: ['--port', '1', '--enable-sleep-mode'], env: { VLLM_SERVER_DEV_MODE: '1' } },
    { command: ['--enable-sleep-mode', '--port=1'], env: { VLLM_SERVER_DEV_MODE: '1', FAKE_PORT: '1' } },
  ];
  for (const over of overs) {
    const info = await runtime.start((await runtime.create(spec(over))).id);
    await waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint!, healthPath: '/health', timeoutMs: 5_000 });
    const res = await request(`http://127.0.0.1:${info.endpoint!.port}/is_sleeping`);
    assert.equal(res.statusCode, 200, JSON.stringify(over));
    await res.body.dump();
  }
});
