// What happens when a model's container dies, is OOM-killed or is removed by hand while serving,
// and when a model keeps failing (crash-loop backoff).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chat, startApp, testConfig, waitFor } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
models:
  m: { image: fake-model:latest, maxConcurrent: 1 }
  broken: { image: fake-model:latest, env: { FAKE_EXIT_ON_START: "4" } }
`;

/**
 * Engines report a container's death 50–250 ms after it happens (more on a busy host); the fake
 * runtime reports it at once. This one reports it late, so a client that retries as soon as its
 * stream broke reaches swapdock before the engine's event, as it does on a real engine.
 */
class LateEventsRuntime extends FakeRuntime {
  override watch(...[labels, handlers]: Parameters<FakeRuntime['watch']>) {
    return super.watch(labels, { ...handlers, onEvent: (event) => void setTimeout(() => handlers.onEvent(event), 500) });
  }
}

/** swapdock on a random loopback port (startApp), its engine events late when asked. */
const serve = (yaml: string, { lateEvents = false } = {}) => startApp(yaml, lateEvents ? new LateEventsRuntime() : {});

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
  return text;
}

describe('a model container that dies', () => {
  it('fails the streams in flight and the queued requests at once, then restarts on the next request', async () => {
    const server = await serve(MODELS);
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
      await server.close();
    }
  });

  it('a request sent right after a crash mid-stream (before the engine reports it) starts the model again and is served', async () => {
    const server = await serve(MODELS, { lateEvents: true });
    try {
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('m'))).status, 200, 'loaded first');
      const stream = await fetch(`${server.url}/v1/chat/completions`, chat('m', { stream: true, fake_chunks: 100, fake_chunk_delay_ms: 50 }));
      const reader = stream.body!.getReader();
      await reader.read();
      const oldId = server.scheduler.snapshotOf('m')!.containerId!;
      await server.runtime.kill(oldId);
      assert.match(await readAll(reader), /"error"/, 'the stream in flight ends with an error event');
      // The client retries at once: the engine has not reported the death yet.
      const again = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
      const body = await again.text();
      assert.equal(again.status, 200, `the retry is served; got ${again.status} ${body}`);
      assert.equal((JSON.parse(body) as { object: string }).object, 'chat.completion');
      const now = server.scheduler.snapshotOf('m')!;
      assert.equal(now.status, 'ready');
      assert.notEqual(now.containerId, oldId, 'on a new container');
      assert.equal(server.runtime.calls.create, 2);
    } finally {
      await server.close();
    }
  });

  it('a request in flight when the container dies gets the crash error; it is not sent again', async () => {
    const server = await serve(MODELS, { lateEvents: true });
    try {
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('m'))).status, 200, 'loaded first');
      const slow = fetch(`${server.url}/v1/chat/completions`, chat('m', { fake_delay_ms: 20_000 }));
      await waitFor(() => server.scheduler.snapshotOf('m')!.inFlight === 1, 2000, 'the request in flight');
      await new Promise((r) => setTimeout(r, 100)); // it reached the backend
      await server.runtime.kill(server.scheduler.snapshotOf('m')!.containerId!);
      const res = await slow;
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_crashed');
      assert.equal(server.runtime.calls.create, 1, 'not retried on a new container');
    } finally {
      await server.close();
    }
  });

  it('says so when the container was OOM-killed or removed by hand', async () => {
    const h = await serve(MODELS);
    try {
      for (const [act, pattern] of [['simulateOom', /out of memory/], ['removeByHand', /removed outside swapdock/]] as const) {
        await (await h.request('/v1/chat/completions', chat('m'))).text();
        const slow = h.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 40, fake_chunk_delay_ms: 50 }));
        await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 1);
        const queued = h.request('/v1/chat/completions', chat('m'));
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
  it('a model that was restarted and then served counts its next crash as the first: it starts again at once', async () => {
    const server = await serve(MODELS);
    try {
      for (const round of [1, 2, 3]) {
        const res = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
        assert.equal(res.status, 200, `round ${round}: served; got ${res.status} ${await res.clone().text()}`);
        await res.text();
        await server.runtime.kill(server.scheduler.snapshotOf('m')!.containerId!);
        await waitFor(() => server.scheduler.snapshotOf('m')!.status === 'failed', 5000, 'the crash to be noticed');
      }
      const res = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
      assert.equal(res.status, 200, `no crash-loop backoff after a restart that served; got ${res.status} ${await res.text()}`);
      assert.equal(server.runtime.calls.create, 4);
    } finally {
      await server.close();
    }
  });

  it('a request that arrives during a backoff waits for the next attempt and is served by it', async () => {
    const server = await serve(MODELS);
    try {
      server.runtime.failNext('start', new Error('simulated start failure'));
      server.runtime.failNext('start', new Error('simulated start failure'));
      for (const attempt of [1, 2]) {
        const res = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
        assert.equal(res.status, 503, `attempt ${attempt}`);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_start_failed');
      }
      // Two failures in a row: the next start waits 1 s, well within queue.maxWait (10 minutes).
      const waiting = fetch(`${server.url}/v1/chat/completions`, chat('m'));
      await waitFor(() => server.scheduler.snapshotOf('m')!.queued === 1, 2000, 'the request to wait in the queue');
      assert.equal(server.runtime.calls.create, 2, 'no start before the backoff ends');
      const res = await waiting;
      assert.equal(res.status, 200, `served by the next attempt; got ${res.status} ${await res.clone().text()}`);
      assert.equal(server.runtime.calls.create, 3);
    } finally {
      await server.close();
    }
  });

  it('retries a failing model once at once; a request whose wait for the next attempt would exceed queue.maxWait gets 503 with Retry-After', async () => {
    const h = await serve(MODELS);
    try {
      const first = await h.request('/v1/chat/completions', chat('broken'));
      assert.equal(JSON.parse(await first.text()).error.code, 'container_exited');
      const second = await h.request('/v1/chat/completions', chat('broken'));
      assert.equal(JSON.parse(await second.text()).error.code, 'container_exited');
      // Only now a short wait bound (a failing start may itself take longer than that on a busy host).
      h.scheduler.reload(testConfig(`queue: { maxWait: 500ms }\n${MODELS}`));
      const third = await h.request('/v1/chat/completions', chat('broken'));
      assert.equal(third.status, 503);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
      const { error } = JSON.parse(await third.text());
      assert.equal(error.code, 'model_crash_loop');
      assert.match(error.message, /failed 2 times in a row.*crash-loop backoff.*next attempt in \d+ s/);
      assert.equal(h.runtime.calls.create, 2, 'the third request did not start a container');
      const load = await h.request('/api/models/broken/load', { method: 'POST' });
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
    const h = await serve(MODELS);
    try {
      for (let i = 0; i < 3; i++) {
        h.runtime.failNext('ensureImage', new EngineUnavailableError('unix:///nowhere.sock', 'connect ENOENT'));
        const res = await h.request('/v1/chat/completions', chat('m'));
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '5');
        const { error } = JSON.parse(await res.text());
        assert.equal(error.code, 'engine_unavailable');
        assert.match(error.message, /Cannot reach the container engine/);
      }
      const back = await h.request('/v1/chat/completions', chat('m'));
      assert.equal(back.status, 200, 'no crash-loop backoff once the engine is back');
    } finally {
      await h.close();
    }
  });
});
