// Scheduler behaviour observed through HTTP: single-flight starts, GPU exclusivity, requests in
// flight protected from swaps, idle TTL, start failures leaving nothing behind, shutdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, chat, waitFor } from '../support/app-harness.js';

const MODELS = `
instance: app-sched
defaults: { ttl: 0, stopTimeout: 2s }
models:
  gpu-a: { image: fake-model:latest, gpus: all }
  gpu-b: { image: fake-model:latest, gpus: [0] }
  cpu: { image: fake-model:latest }
`;

function running(runtime: { containers: Map<string, { state: string; spec: { labels: Record<string, string> } }> }): string[] {
  return [...runtime.containers.values()]
    .filter((c) => c.state === 'running')
    .map((c) => c.spec.labels['io.swapdock.model']!)
    .sort();
}

describe('scheduling', () => {
  it('concurrent requests for a cold model share one start', async () => {
    const h = await startApp(MODELS, { gpuSupport: true });
    try {
      const responses = await Promise.all(Array.from({ length: 8 }, () => h.request('/v1/chat/completions', chat('cpu'))));
      assert.deepEqual(responses.map((r) => r.status), Array(8).fill(200));
      await Promise.all(responses.map((r) => r.text()));
      assert.equal(h.runtime.calls.create, 1);
      assert.equal(h.runtime.calls.start, 1);
    } finally {
      await h.close();
    }
  });

  it('GPU models are exclusive; CPU models run beside them', async () => {
    const h = await startApp(MODELS, { gpuSupport: true });
    try {
      await (await h.request('/v1/chat/completions', chat('gpu-a'))).text();
      await (await h.request('/v1/chat/completions', chat('cpu'))).text();
      assert.deepEqual(running(h.runtime), ['cpu', 'gpu-a']);
      await (await h.request('/v1/chat/completions', chat('gpu-b'))).text();
      assert.deepEqual(running(h.runtime), ['cpu', 'gpu-b']);
      assert.equal(h.scheduler.snapshotOf('gpu-a')!.status, 'stopped');
      // The stopped model's container is gone, not merely stopped.
      assert.equal([...h.runtime.containers.values()].filter((c) => c.spec.labels['io.swapdock.model'] === 'gpu-a').length, 0);
    } finally {
      await h.close();
    }
  });

  it('a swap waits for requests in flight on the evicted model', async () => {
    const h = await startApp(MODELS, { gpuSupport: true });
    try {
      const slow = await h.request('/v1/chat/completions', chat('gpu-a', { stream: true, fake_chunks: 6, fake_chunk_delay_ms: 80 }));
      assert.equal(slow.status, 200);
      const slowBody = slow.text();
      const order: string[] = [];
      const swap = Promise.resolve(h.request('/v1/chat/completions', chat('gpu-b'))).then(async (r) => {
        order.push('swap answered');
        return r;
      });
      const text = await slowBody;
      order.push('stream finished');
      // A cold stream gets its head and a waiting comment at once; the events follow.
      assert.equal(text.split('\n\n').filter((e) => e.startsWith('data:')).length, 7, 'the stream completed: 6 chunks and [DONE]');
      assert.equal((await swap).status, 200);
      assert.deepEqual(order, ['stream finished', 'swap answered']);
      assert.deepEqual(running(h.runtime), ['gpu-b']);
    } finally {
      await h.close();
    }
  });

  it('stops a model after its idle TTL, counted from the last response; listing does not renew it', async () => {
    const h = await startApp(
      `instance: app-ttl\nmodels:\n  quick: { image: fake-model:latest, ttl: 400ms, stopTimeout: 1s }\n  forever: { image: fake-model:latest, ttl: 0 }\n`,
    );
    try {
      await (await h.request('/v1/chat/completions', chat('quick'))).text();
      await (await h.request('/v1/chat/completions', chat('forever'))).text();
      const readyAt = Date.now();
      for (let i = 0; i < 5; i++) {
        await (await h.request('/v1/models')).text();
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(() => h.scheduler.snapshotOf('quick')!.status === 'stopped', 5000, 'quick to stop');
      assert.ok(Date.now() - readyAt < 2000, 'listing models did not keep it alive');
      assert.deepEqual(running(h.runtime), ['forever']);
      assert.equal(h.scheduler.snapshotOf('forever')!.status, 'ready', 'ttl 0 never unloads');
    } finally {
      await h.close();
    }
  });

  it('an idle TTL never stops a model while a request is in flight', async () => {
    const h = await startApp(`instance: app-ttl2\nmodels:\n  m: { image: fake-model:latest, ttl: 150ms }\n`);
    try {
      const res = await h.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 5, fake_chunk_delay_ms: 100 }));
      const text = await res.text();
      assert.match(text, /\[DONE\]/);
      assert.equal(h.scheduler.snapshotOf('m')!.status, 'ready', 'still up right after a 500 ms stream with a 150 ms TTL');
      await waitFor(() => h.scheduler.snapshotOf('m')!.status === 'stopped', 3000, 'stop after the TTL');
    } finally {
      await h.close();
    }
  });

  it('a start failure answers 503 with the reason and leaves no container', async () => {
    const h = await startApp(`
instance: app-fail
models:
  missing-image: { image: nowhere/none:1 }
  crashes: { image: fake-model:latest, env: { FAKE_EXIT_ON_START: "3" } }
  gpu-on-cpu-engine: { image: fake-model:latest, gpus: all }
`, { gpuSupport: false });
    try {
      const cases: [string, RegExp][] = [
        ['missing-image', /nowhere\/none:1/],
        ['crashes', /exit.*3[\s\S]*simulated start failure/i],
        ['gpu-on-cpu-engine', /NVIDIA/],
      ];
      for (const [model, pattern] of cases) {
        const res = await h.request('/v1/chat/completions', chat(model));
        assert.equal(res.status, 503, model);
        const err = JSON.parse(await res.text()).error;
        assert.equal(err.type, 'service_unavailable');
        assert.match(err.message, pattern, model);
        assert.equal(h.scheduler.snapshotOf(model)!.status, 'failed');
      }
      assert.deepEqual(await h.runtime.list({ 'io.swapdock.instance': 'app-fail' }), []);
    } finally {
      await h.close();
    }
  });

  it('a client that gives up while a model starts does not block the next request', async () => {
    const h = await startApp(`instance: app-abort\nmodels:\n  slow: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "300" } }\n`);
    try {
      const controller = new AbortController();
      const first = h.request('/v1/chat/completions', { ...chat('slow'), signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      // app.request has no socket to close, so the aborted request resolves with an error status.
      const outcome = await Promise.resolve(first).then((r: Response) => r.status as number | string, () => "rejected");
      assert.notEqual(outcome, 200);
      const res = await h.request('/v1/chat/completions', chat('slow'));
      assert.equal(res.status, 200);
      await res.text();
    } finally {
      await h.close();
    }
  });

  it('shutdown lets requests in flight finish, refuses new ones and removes every container', async () => {
    const h = await startApp(MODELS, { gpuSupport: true });
    const res = await h.request('/v1/chat/completions', chat('cpu', { stream: true, fake_chunks: 4, fake_chunk_delay_ms: 100 }));
    const body = res.text();
    // A cold stream gets its head at once: shut down once the request is really in flight.
    await waitFor(() => h.scheduler.snapshotOf('cpu')!.inFlight === 1, 5000, 'the request in flight');
    const shutdown = h.scheduler.shutdown(5000);
    const refused = await h.request('/v1/chat/completions', chat('gpu-a'));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(await body, /\[DONE\]/);
    await shutdown;
    assert.deepEqual(await h.runtime.list({ 'io.swapdock.instance': 'app-sched' }), []);
    await h.close(); // the HTTP server too
  });
});
