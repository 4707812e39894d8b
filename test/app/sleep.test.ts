// Models that sleep instead of stopping (models.*.sleep), through the app on the fake runtime: the
// fake model implements vLLM's sleep API (with --enable-sleep-mode and VLLM_SERVER_DEV_MODE=1,
// which swapdock sets), tabbyAPI's unload/load and a generic HTTP one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, chat, waitFor, type TestApp } from '../support/app-harness.js';

const ask = async (h: TestApp, model: string) => {
  const res = await h.request('/v1/chat/completions', chat(model));
  return { status: res.status, text: await res.text() };
};
const status = (h: TestApp, model: string) => h.scheduler.snapshotOf(model)?.status;
const createdFor = (h: TestApp, model: string) => h.runtime.createdSpecs.filter((s) => s.labels['io.swapdock.model'] === model).length;

/** The fake model's own record of its control calls (status reads are not recorded) and of requests that reached it asleep. */
async function backend(h: TestApp, model: string) {
  const id = h.scheduler.snapshotOf(model)!.containerId!;
  const { endpoint } = (await h.runtime.inspect(id))!;
  const base = `http://${endpoint!.host}:${endpoint!.port}`;
  return {
    base,
    calls: async () => ((await (await fetch(`${base}/fake/control-calls`)).json()) as { path: string; query: string }[]).map((c) => `${c.path}${c.query ? `?${c.query}` : ''}`),
    whileAsleep: async () => ((await (await fetch(`${base}/fake/requests`)).json()) as { whileAsleep: number }).whileAsleep,
  };
}

const VLLM = (level: 1 | 2, extra = '') =>
  `{ image: fake-model:latest, gpus: 1, command: [--enable-sleep-mode], env: { FAKE_WAKE_DELAY_MS: "30", FAKE_RELOAD_DELAY_MS: "30", FAKE_SLEEP_DELAY_MS: "10" }, sleep: { kind: vllm, level: ${level}, memory: 2g${extra} } }`;
const PLAIN = '{ image: fake-model:latest, gpus: 1 }';

describe('sleeping models', () => {
  it('a swap puts the evicted model to sleep; its next request wakes the same container, and nothing reaches it asleep', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1)}\n  b: ${PLAIN}\n`);
    try {
      assert.equal((await ask(h, 'a')).status, 200);
      const a = await backend(h, 'a');
      assert.equal((await ask(h, 'b')).status, 200);
      assert.equal(status(h, 'a'), 'sleeping');
      assert.deepEqual(await a.calls(), ['/sleep?level=1']);
      const models = (await (await h.request('/api/models')).json()) as { models: { id: string; status: string; sleep: unknown }[] };
      assert.equal(models.models.find((m) => m.id === 'a')!.status, 'sleeping');
      assert.deepEqual(models.models.find((m) => m.id === 'a')!.sleep, { kind: 'vllm', level: 1, memoryBytes: 2 * 1024 ** 3, vramBytes: 0, ttlMs: 0 });

      const woken = await ask(h, 'a');
      assert.equal(woken.status, 200, woken.text);
      assert.equal(status(h, 'a'), 'ready');
      assert.equal(status(h, 'b'), 'stopped', 'b cannot sleep: it was stopped');
      assert.equal(createdFor(h, 'a'), 1, 'woken, not started again');
      assert.deepEqual((await a.calls()).slice(1), ['/wake_up']);
      assert.equal(await a.whileAsleep(), 0);
    } finally {
      await h.close();
    }
  });

  it('level 2 wakes with the weight reload sequence, so answers are real', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(2)}\n  b: ${PLAIN}\n`);
    try {
      await ask(h, 'a');
      const a = await backend(h, 'a');
      await ask(h, 'b');
      assert.equal(status(h, 'a'), 'sleeping');
      const woken = await ask(h, 'a');
      assert.equal(woken.status, 200);
      assert.doesNotMatch(woken.text, /garbage/);
      assert.deepEqual(await a.calls(), ['/sleep?level=2', '/wake_up?tags=weights', '/collective_rpc', '/wake_up?tags=kv_cache', '/reset_prefix_cache']);
    } finally {
      await h.close();
    }
  });

  it('one wake serves every request that waits for it', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1)}\n  b: ${PLAIN}\n`);
    try {
      await ask(h, 'a');
      const a = await backend(h, 'a');
      await ask(h, 'b');
      const answers = await Promise.all([1, 2, 3, 4].map(() => ask(h, 'a')));
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
      assert.equal((await a.calls()).filter((c) => c.startsWith('/wake_up')).length, 1);
    } finally {
      await h.close();
    }
  });

  it('idle ladder: ttl puts it to sleep, sleep.ttl then stops it', async () => {
    const h = await startApp(`models:\n  a: ${VLLM(1, ', ttl: 1s').replace('gpus: 1,', 'gpus: 1, ttl: 1s,')}\n`);
    try {
      await ask(h, 'a');
      await waitFor(() => status(h, 'a') === 'sleeping', 5000, 'a asleep after its ttl');
      await waitFor(() => status(h, 'a') === 'stopped', 5000, 'a stopped after sleep.ttl');
      assert.equal([...h.runtime.containers.values()].filter((c) => c.state === 'running').length, 0);
    } finally {
      await h.close();
    }
  });

  it('POST /api/models/{id}/sleep puts an idle model to sleep; load wakes it; a model without sleep gets 409', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1)}\n  b: { image: fake-model:latest }\n`);
    try {
      await ask(h, 'a');
      const slept = await h.request('/api/models/a/sleep', { method: 'POST' });
      assert.equal(slept.status, 200);
      assert.equal(((await slept.json()) as { status: string }).status, 'sleeping');
      const loaded = await h.request('/api/models/a/load', { method: 'POST' });
      assert.equal(((await loaded.json()) as { status: string }).status, 'ready');
      const refused = await h.request('/api/models/b/sleep', { method: 'POST' });
      assert.equal(refused.status, 409);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /no sleep mode configured.*models\.b\.sleep/);
    } finally {
      await h.close();
    }
  });

  it('a sleep that fails stops the container instead; a wake that fails starts it again from scratch and serves the request', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1)}\n  b: ${PLAIN}\n`);
    const progress: string[] = [];
    h.scheduler.events.on('load', (e) => (e.phase === 'sleep' || e.phase === 'wake') && progress.push(`${e.phase}: ${e.message}`));
    try {
      await ask(h, 'a');
      let a = await backend(h, 'a');
      await fetch(`${a.base}/fake/fail-next-sleep`, { method: 'POST' });
      await ask(h, 'b');
      assert.equal(status(h, 'a'), 'stopped');
      // Now a sleep that works, then a wake that fails.
      await ask(h, 'a');
      a = await backend(h, 'a');
      await ask(h, 'b');
      assert.equal(status(h, 'a'), 'sleeping');
      await fetch(`${a.base}/fake/fail-next-wake`, { method: 'POST' });
      const served = await ask(h, 'a');
      assert.equal(served.status, 200, served.text);
      assert.equal(createdFor(h, 'a'), 3, 'a cold start after the failed wake');
      // Both failures are events (as well as log lines), saying what swapdock did about them.
      assert.ok(progress.some((p) => /^sleep: sleep failed: .*stopping the container$/.test(p)), progress.join('\n'));
      assert.ok(progress.some((p) => /^wake: wake failed: .*starting it again from scratch$/.test(p)), progress.join('\n'));
    } finally {
      await h.close();
    }
  });

  it('a sleep that takes longer than sleep.timeout has failed: the container is stopped', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1, ', timeout: 1s')}\n  b: ${PLAIN}\n`);
    try {
      await ask(h, 'a');
      const a = await backend(h, 'a');
      await fetch(`${a.base}/fake/hang-next-sleep`, { method: 'POST' });
      assert.equal((await ask(h, 'b')).status, 200);
      assert.equal(status(h, 'a'), 'stopped');
      assert.equal([...h.runtime.containers.values()].filter((c) => c.state === 'running' && c.spec.labels['io.swapdock.model'] === 'a').length, 0);
    } finally {
      await h.close();
    }
  });

  it('engine.sleepMemory: the least recently used sleeper is stopped to make room; a model bigger than the budget is stopped', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nengine: { sleepMemory: 3g }\nmodels:\n  a: ${VLLM(1)}\n  b: ${VLLM(1)}\n  c: ${PLAIN}\n  big: ${VLLM(1).replace('memory: 2g', 'memory: 4g')}\n`);
    try {
      await ask(h, 'a');
      await ask(h, 'b'); // a asleep (2g of 3g)
      assert.equal(status(h, 'a'), 'sleeping');
      await ask(h, 'c'); // b must sleep: a (older) is stopped for room
      assert.equal(status(h, 'b'), 'sleeping');
      assert.equal(status(h, 'a'), 'stopped');
      await ask(h, 'big'); // c stops (no sleep)
      await ask(h, 'c'); // big cannot sleep in 3g: stopped
      assert.equal(status(h, 'big'), 'stopped');
      assert.equal(status(h, 'b'), 'sleeping');
    } finally {
      await h.close();
    }
  });

  it('/upstream never reaches the sleep, wake or RPC endpoints of a model that can sleep, however the path is spelled', async () => {
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${VLLM(1)}\n`);
    try {
      await ask(h, 'a');
      for (const path of ['/upstream/a/sleep?level=1', '/upstream/a/wake_up', '/upstream/a/collective_rpc', '/upstream/a/%73leep', '/upstream/a/SLEEP', '/upstream/a/is_sleeping']) {
        const res = await h.request(path, { method: 'POST', body: '{}' });
        assert.equal(res.status, 403, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'control_endpoint');
      }
      assert.equal(status(h, 'a'), 'ready');
      assert.deepEqual(await (await backend(h, 'a')).calls(), []);
      assert.equal((await h.request('/upstream/a/health')).status, 200);
    } finally {
      await h.close();
    }
  });
});
