// What happens when a model's container dies, is OOM-killed or is removed by hand while serving,
// and when a model keeps failing (crash-loop backoff).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp, buildServer, chat, waitFor } from '../support/app-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
models:
  m: { image: fake-model:latest, maxConcurrent: 1 }
  broken: { image: fake-model:latest, env: { FAKE_EXIT_ON_START: "4" } }
`;

describe('a model container that dies', () => {
  it('fails the streams in flight and the queued requests at once, then restarts on the next request', async () => {
    const server = await buildServer(MODELS);
    try {
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('m'))).status, 200, 'loaded first');
      const stream = await fetch(`${server.url}/v1/chat/completions`, chat('m', { stream: true, fake_chunks: 100, fake_chunk_delay_ms: 50 }));
      const reader = stream.body!.getReader();
      await reader.read();
      const queued = fetch(`${server.url}/v1/chat/completions`, chat('m'));
      await waitFor(() => server.scheduler.snapshotOf('m')!.queued === 1, 2000, 'a queued request');
      const containerId = server.scheduler.snapshotOf('m')!.containerId!;
      const killedAt = Date.now();
      await server.runtime.kill(containerId);
      const queuedRes = await queued;
      assert.equal(queuedRes.status, 503);
      const { error } = (await queuedRes.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'model_crashed');
      assert.match(error.message, /killed \(exit code 137/);
      assert.ok(Date.now() - killedAt < 2000, 'noticed within a second or so');
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      assert.doesNotMatch(rest, /\[DONE\]/);
      assert.match(rest, /"error"/, 'the stream ends with an error event');
      assert.equal(server.scheduler.snapshotOf('m')!.status, 'failed');
      const again = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
      assert.equal(again.status, 200);
      assert.notEqual(server.scheduler.snapshotOf('m')!.containerId, containerId, 'a new container');
    } finally {
      await server.shutdown();
    }
  });

  it('says so when the container was OOM-killed or removed by hand', async () => {
    const h = buildApp(MODELS);
    try {
      for (const [act, pattern] of [['simulateOom', /out of memory/], ['removeByHand', /removed outside swapdock/]] as const) {
        await (await h.app.request('/v1/chat/completions', chat('m'))).text();
        const slow = h.app.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 40, fake_chunk_delay_ms: 50 }));
        await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 1);
        const queued = h.app.request('/v1/chat/completions', chat('m'));
        await waitFor(() => h.scheduler.snapshotOf('m')!.queued === 1);
        await h.runtime[act](h.scheduler.snapshotOf('m')!.containerId!);
        const res = await queued;
        assert.equal(res.status, 503);
        assert.match(JSON.parse(await res.text()).error.message, pattern);
        await Promise.resolve(slow).then((r) => r.text()).catch(() => undefined);
        await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 0);
      }
    } finally {
      await h.close();
    }
  });
});

describe('crash-loop backoff', () => {
  it('retries a failing model once at once, then spaces out attempts and says so', async () => {
    const h = buildApp(MODELS);
    try {
      const first = await h.app.request('/v1/chat/completions', chat('broken'));
      assert.equal(JSON.parse(await first.text()).error.code, 'container_exited');
      const second = await h.app.request('/v1/chat/completions', chat('broken'));
      assert.equal(JSON.parse(await second.text()).error.code, 'container_exited');
      const third = await h.app.request('/v1/chat/completions', chat('broken'));
      assert.equal(third.status, 503);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
      const { error } = JSON.parse(await third.text());
      assert.equal(error.code, 'model_crash_loop');
      assert.match(error.message, /failed 2 times in a row.*crash-loop backoff.*next attempt in \d+ s/);
      assert.equal(h.runtime.calls.create, 2, 'the third request did not start a container');
      const load = await h.app.request('/api/models/broken/load', { method: 'POST' });
      assert.equal(load.status, 503, 'an explicit load retries at once (and fails again)');
      assert.equal(h.runtime.calls.create, 3);
    } finally {
      await h.close();
    }
  });
});

describe('an unreachable engine', () => {
  it('answers 503 engine_unavailable with Retry-After and never counts toward a crash loop', async () => {
    const { EngineUnavailableError } = await import('../../src/runtime/runtime-errors.js');
    const h = buildApp(MODELS);
    try {
      for (let i = 0; i < 3; i++) {
        h.runtime.failNext('ensureImage', new EngineUnavailableError('unix:///nowhere.sock', 'connect ENOENT'));
        const res = await h.app.request('/v1/chat/completions', chat('m'));
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '5');
        const { error } = JSON.parse(await res.text());
        assert.equal(error.code, 'engine_unavailable');
        assert.match(error.message, /Cannot reach the container engine/);
      }
      const back = await h.app.request('/v1/chat/completions', chat('m'));
      assert.equal(back.status, 200, 'no crash-loop backoff once the engine is back');
    } finally {
      await h.close();
    }
  });
});
