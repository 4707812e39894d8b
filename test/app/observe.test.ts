// Logs and events over HTTP on a real server with the fake runtime: /api/events (model state
// changes with causes and durations, request events with tokens, queue events), /api/logs/{model}
// (container output, history then live), /api/logs (swapdock's own lines), /api/requests, and
// listeners removed when an SSE client disconnects.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildServer, chat, waitFor } from '../support/app-harness.js';
import { sseParser, type SseEvent } from '../support/sse-events.js';

let server: Awaited<ReturnType<typeof buildServer>>;
before(async () => {
  server = await buildServer(`
instance: app-observe
defaults: { ttl: 0, stopTimeout: 1s }
models:
  org/chatty: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "200" } }
  single: { image: fake-model:latest, maxConcurrent: 1 }
`);
});
after(() => server.shutdown());

/** An SSE client on a raw socket, so a test can disconnect it like a browser tab closing. */
function openSse(path: string) {
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  const parse = sseParser((e) => events.push(e));
  let status = 0;
  let contentType = '';
  const req = http.get(`${server.url}${path}`, (res) => {
    status = res.statusCode ?? 0;
    contentType = String(res.headers['content-type']);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      parse(chunk);
      waiters.forEach((w) => w());
    });
  });
  req.on('error', () => undefined);
  const next = (pred: (e: SseEvent) => boolean, what: string, from = 0, timeoutMs = 10_000) =>
    new Promise<SseEvent>((resolve, reject) => {
      const check = () => {
        const found = events.slice(from).find(pred);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.event, e.data]))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { events, next, close: () => req.destroy(), status: () => status, contentType: () => contentType };
}

const post = async (model: string, extra: Record<string, unknown> = {}) => {
  const res = await fetch(`${server.url}/v1/chat/completions`, chat(model, extra));
  return { status: res.status, text: await res.text() };
};

describe('GET /api/events', () => {
  it('starts with a snapshot, then a load: stopped→starting→ready with cause and duration, and a request event with tokens', async () => {
    const sse = openSse('/api/events');
    const snapshot = await sse.next((e) => e.event === 'snapshot', 'snapshot');
    assert.equal(sse.events[0]!.event, 'snapshot', 'the snapshot comes first');
    assert.match(sse.contentType(), /text\/event-stream/);
    assert.deepEqual(snapshot.data.models.map((m: { id: string; status: string }) => [m.id, m.status]), [['org/chatty', 'stopped'], ['single', 'stopped']]);

    const answer = await post('org/chatty');
    assert.equal(answer.status, 200);
    const usage = JSON.parse(answer.text).usage;
    const starting = await sse.next((e) => e.event === 'model' && e.data.to === 'starting', 'starting');
    assert.equal(starting.data.model, 'org/chatty');
    assert.equal(starting.data.from, 'stopped');
    assert.equal(starting.data.cause, 'request');
    assert.equal(typeof starting.data.reason, 'string');
    const ready = await sse.next((e) => e.event === 'model' && e.data.to === 'ready', 'ready');
    assert.equal(ready.data.from, 'starting');
    assert.equal(ready.data.cause, 'request');
    assert.ok(ready.data.durationMs >= 200, `a load of a model ready after 200 ms took ${ready.data.durationMs} ms`);
    const request = await sse.next((e) => e.event === 'request' && e.data.model === 'org/chatty', 'request event');
    assert.equal(request.data.status, 200);
    assert.equal(request.data.method, 'POST');
    assert.equal(request.data.path, '/v1/chat/completions');
    assert.equal(request.data.tokensIn, usage.prompt_tokens);
    assert.equal(request.data.tokensOut, usage.completion_tokens);
    assert.ok(request.data.ttftMs <= request.data.durationMs && request.data.waitMs <= request.data.ttftMs, JSON.stringify(request.data));
    assert.ok(request.data.waitMs >= 200, 'it waited for the load');
    assert.equal(typeof request.data.requestId, 'string');
    // A load event per container line while it started.
    assert.ok(sse.events.some((e) => e.event === 'load' && e.data.phase === 'log' && /fake-model: starting/.test(e.data.message)), 'load log lines');

    // Streaming: tokens from the usage chunk.
    const from = sse.events.length;
    const streamed = await post('org/chatty', { stream: true, fake_chunks: 4, stream_options: { include_usage: true } });
    assert.match(streamed.text, /"usage"/);
    const streamedEvent = await sse.next((e) => e.event === 'request', 'streamed request event', from);
    assert.equal(streamedEvent.data.tokensOut, 4);
    assert.equal(typeof streamedEvent.data.tokensIn, 'number');

    // An admin unload: stopping and stopped, cause admin, with the stop's duration.
    const unloadFrom = sse.events.length;
    const unloaded = await fetch(`${server.url}/api/models/org/chatty/unload`, { method: 'POST' });
    assert.equal(unloaded.status, 200);
    const stopped = await sse.next((e) => e.event === 'model' && e.data.to === 'stopped', 'stopped', unloadFrom);
    assert.equal(stopped.data.cause, 'admin');
    assert.equal(typeof stopped.data.durationMs, 'number');
    sse.close();

    const recent = (await (await fetch(`${server.url}/api/requests`)).json()) as { requests: { model?: string; tokensOut?: number }[] };
    assert.deepEqual(recent.requests.filter((r) => r.model === 'org/chatty').map((r) => r.tokensOut), [usage.completion_tokens, 4], 'newest last');
  });

  it('emits queue events when requests wait for a busy model', async () => {
    await post('single'); // loaded
    const sse = openSse('/api/events');
    await sse.next((e) => e.event === 'snapshot', 'snapshot');
    const slow = post('single', { fake_delay_ms: 400 });
    const waiting = post('single');
    const queued = await sse.next((e) => e.event === 'queue' && e.data.model === 'single' && e.data.queued === 1, 'a queued request');
    assert.equal(queued.data.inFlight, 1);
    await Promise.all([slow, waiting]);
    await sse.next((e) => e.event === 'queue' && e.data.model === 'single' && e.data.queued === 0 && e.data.inFlight === 0, 'all done');
    sse.close();
  });

  it('removes its listeners when the client disconnects', async () => {
    const events = server.scheduler.events;
    const counts = () => ['model', 'queue', 'request'].map((name) => events.listenerCount(name as 'model'));
    // Earlier tests' clients may still be going away: wait until the counts settle.
    let before = counts();
    for (let settled = false; !settled; ) {
      await new Promise((r) => setTimeout(r, 150));
      settled = JSON.stringify(counts()) === JSON.stringify(before);
      before = counts();
    }
    const sse = openSse('/api/events');
    await sse.next((e) => e.event === 'snapshot', 'snapshot');
    assert.deepEqual(counts(), before.map((n) => n + 1));
    sse.close();
    await waitFor(() => events.listenerCount('model') === before[0] && events.listenerCount('queue') === before[1], 5000, 'listeners removed');
    const logs = openSse('/api/logs/single');
    await waitFor(() => events.listenerCount('log') > 0, 5000, 'a log listener');
    const withClient = events.listenerCount('log');
    logs.close();
    await waitFor(() => events.listenerCount('log') === withClient - 1, 5000, 'log listener removed');
  });
});

describe('GET /api/logs/{model}', () => {
  it("streams the model's container output: history first, then live lines", async () => {
    await post('org/chatty');
    const sse = openSse('/api/logs/org/chatty');
    const started = await sse.next((e) => e.event === 'log' && /fake-model: starting/.test(e.data.line), 'the start line');
    assert.equal(started.data.stream, 'stdout');
    assert.equal(typeof started.data.at, 'number');
    await sse.next((e) => /listening on/.test(e.data.line), 'the listening line');
    const history = sse.events.length;
    await post('org/chatty');
    const live = await sse.next((e) => /POST \/v1\/chat\/completions 200/.test(e.data.line), 'a live request line', history);
    assert.equal(live.event, 'log');
    sse.close();

    const json = (await (await fetch(`${server.url}/api/logs/org/chatty?follow=false`)).json()) as { lines: { line: string }[] };
    assert.ok(json.lines.some((l) => /fake-model: starting/.test(l.line)));
    assert.ok(json.lines.at(-1)!.line.length > 0);
  });

  it('answers 404 with an OpenAI-shaped error for an unknown model', async () => {
    const res = await fetch(`${server.url}/api/logs/no/such-model`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'model_not_found');
    assert.match(body.error.message, /no\/such-model/);
  });
});

describe('GET /api/logs', () => {
  it("streams swapdock's own log lines, and returns them as JSON with follow=false", async () => {
    const json = (await (await fetch(`${server.url}/api/logs?follow=false`)).json()) as { lines: { at: number; level: string; msg: string }[] };
    assert.ok(json.lines.some((l) => /listening on/.test(l.msg) && l.level === 'info' && typeof l.at === 'number'), JSON.stringify(json.lines.slice(0, 5)));
    const sse = openSse('/api/logs');
    await sse.next((e) => /listening on/.test(e.data.msg), 'history');
    const from = sse.events.length;
    await post('single');
    const live = await sse.next((e) => /POST \/v1\/chat\/completions → 200/.test(e.data.msg), 'the request line', from);
    assert.equal(live.data.model, 'single');
    sse.close();
  });
});
