// VRAM-aware placement through the app: which models stay resident, which are evicted, and
// which devices each container receives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, chat, type TestApp } from '../support/app-harness.js';

type Harness = TestApp;
const ask = async (h: Harness, model: string, extra?: Record<string, unknown>) => {
  const res = await h.request('/v1/chat/completions', chat(model, extra));
  const text = await res.text();
  return { status: res.status, text };
};
const running = (h: Harness) =>
  [...h.runtime.containers.values()].filter((c) => c.state === 'running').map((c) => c.spec.labels['io.swapdock.model']!).sort();
const specOf = (h: Harness, model: string) => h.runtime.createdSpecs.filter((s) => s.labels['io.swapdock.model'] === model).at(-1)!;

const TWO_GPUS = `
defaults: { ttl: 0, stopTimeout: 1s }
gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }]
`;

describe('placement on a GPU inventory', () => {
  it('runs models side by side when their VRAM fits, each on its own devices', async () => {
    const h = await startApp(`${TWO_GPUS}models:
  a: { image: fake-model:latest, gpus: 1, vram: 20g }
  b: { image: fake-model:latest, gpus: 1, vram: 20g }
  small: { image: fake-model:latest, gpus: 1, vram: 4g }
`, { gpuSupport: true });
    try {
      for (const m of ['a', 'b', 'small']) assert.equal((await ask(h, m)).status, 200);
      assert.deepEqual(running(h), ['a', 'b', 'small']);
      const devices = ['a', 'b'].map((m) => specOf(h, m).gpus);
      assert.deepEqual(devices.map((g) => g?.kind === 'ids' && g.ids.length), [1, 1]);
      assert.notDeepEqual(devices[0], devices[1], 'a and b are on different GPUs');
      const small = specOf(h, 'small');
      assert.equal(small.env.NVIDIA_VISIBLE_DEVICES, (small.gpus as { ids: string[] }).ids.join(','));
      assert.deepEqual(h.scheduler.snapshotOf('a')!.devices, (devices[0] as { ids: string[] }).ids);
    } finally {
      await h.close();
    }
  });

  it('evicts the least recently used idle model, and never a pinned one', async () => {
    const h = await startApp(`${TWO_GPUS}models:
  pinned: { image: fake-model:latest, gpus: 1, vram: 20g, pinned: true }
  b: { image: fake-model:latest, gpus: 1, vram: 20g }
  c: { image: fake-model:latest, gpus: 1, vram: 20g }
  d: { image: fake-model:latest, gpus: 1, vram: 20g }
`, { gpuSupport: true });
    try {
      await ask(h, 'pinned');
      await ask(h, 'b');
      assert.equal((await ask(h, 'c')).status, 200);
      assert.deepEqual(running(h), ['c', 'pinned'], 'b went: pinned is older but pinned');
      assert.equal((await ask(h, 'd')).status, 200);
      assert.deepEqual(running(h), ['d', 'pinned']);
      assert.equal(h.scheduler.swapCount, 2);
    } finally {
      await h.close();
    }
  });

  it('refuses a model that cannot fit beside pinned models, with a clear 503', async () => {
    const h = await startApp(`${TWO_GPUS}models:
  p0: { image: fake-model:latest, gpus: [0], vram: 20g, pinned: true }
  p1: { image: fake-model:latest, gpus: [1], vram: 20g, pinned: true }
  big: { image: fake-model:latest, gpus: 1, vram: 10g }
`, { gpuSupport: true });
    try {
      await ask(h, 'p0');
      await ask(h, 'p1');
      const res = await ask(h, 'big');
      assert.equal(res.status, 503);
      const { error } = JSON.parse(res.text);
      assert.equal(error.code, 'model_unplaceable');
      assert.match(error.message, /pinned/);
      assert.deepEqual(running(h), ['p0', 'p1']);
    } finally {
      await h.close();
    }
  });

  it('waits for a busy model instead of evicting it', async () => {
    const h = await startApp(`${TWO_GPUS}swap: { policy: fifo }
models:
  a: { image: fake-model:latest, gpus: all, vram: 20g }
  b: { image: fake-model:latest, gpus: all, vram: 20g }
`, { gpuSupport: true });
    try {
      await ask(h, 'a');
      const slow = h.request('/v1/chat/completions', chat('a', { stream: true, fake_chunks: 5, fake_chunk_delay_ms: 80 }));
      const order: string[] = [];
      const streamDone = Promise.resolve(slow).then(async (r) => (await r.text(), order.push('a stream done')));
      await new Promise((r) => setTimeout(r, 50));
      const b = ask(h, 'b').then((r) => (order.push('b answered'), r));
      await Promise.all([streamDone, b]);
      assert.deepEqual(order, ['a stream done', 'b answered']);
      assert.deepEqual(running(h), ['b']);
    } finally {
      await h.close();
    }
  });
});

describe('maxLoaded and conflicts', () => {
  it('caps resident models, evicting the least recently used', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmaxLoaded: 2\nmodels:\n  x: { image: fake-model:latest }\n  y: { image: fake-model:latest }\n  z: { image: fake-model:latest }\n`);
    try {
      await ask(h, 'x');
      await ask(h, 'y');
      await ask(h, 'x'); // x is now the most recently used
      await ask(h, 'z');
      assert.deepEqual(running(h), ['x', 'z']);
    } finally {
      await h.close();
    }
  });

  it('never runs conflicting models together', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  x: { image: fake-model:latest, conflicts: [y] }\n  y: { image: fake-model:latest }\n  z: { image: fake-model:latest }\n`);
    try {
      await ask(h, 'x');
      await ask(h, 'z');
      await ask(h, 'y');
      assert.deepEqual(running(h), ['y', 'z']);
      await ask(h, 'x');
      assert.deepEqual(running(h), ['x', 'z']);
    } finally {
      await h.close();
    }
  });
});
