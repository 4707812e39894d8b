// GET /api/timeline and GET /api/events?history=true over HTTP on a real server with the fake
// runtime: a load, a swap, a sleep and a wake become segments on the GPU lanes (and the CPU lane),
// requests become buckets with a time to first token, the event stream can start with the recent
// activity, and both need an admin key like the rest of /api.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import type { TimelineView } from '../../src/scheduler/timeline.js';
import { chat, startApp, type TestApp } from '../support/app-harness.js';
import { sseParser, type SseEvent } from '../support/sse-events.js';

const ask = async (h: TestApp, model: string) => {
  const res = await h.request('/v1/chat/completions', chat(model));
  return { status: res.status, text: await res.text() };
};
const timeline = async (h: TestApp, init?: RequestInit) => (await (await h.request('/api/timeline', init)).json()) as TimelineView;
const statesOf = (view: TimelineView, lane: string, model: string) =>
  view.lanes.find((l) => l.id === lane)!.segments.filter((s) => s.model === model).map((s) => s.state + (s.wake ? '(wake)' : '') + (s.to === undefined ? '…' : ''));

/** The events of an SSE stream until `done` says it has enough (or 10 s pass); `onSnapshot` runs when the first snapshot arrives. */
function readSse(url: string, done: (events: SseEvent[]) => boolean, onSnapshot?: () => void): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const parse = sseParser((e) => {
      events.push(e);
      if (e.event === 'snapshot') onSnapshot?.();
    });
    const req = http.get(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        parse(chunk);
        if (done(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`the stream did not send what was expected; got ${JSON.stringify(events)}`));
    }, 10_000);
    req.on('error', () => undefined);
  });
}

describe('GET /api/timeline', () => {
  it('shows a load, a swap and the CPU model on their lanes, with request buckets and the swap marked', async () => {
    const h = await startApp(`
defaults: { ttl: 0, stopTimeout: 1s }
gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }]
models:
  a: { image: fake-model:latest, gpus: [0], vram: 20g }
  b: { image: fake-model:latest, gpus: [0], vram: 20g }
  small: { image: fake-model:latest }
`, { gpuSupport: true });
    try {
      const before = await timeline(h);
      assert.deepEqual(before.lanes.map((l) => [l.id, l.label, l.segments.length]), [['gpu:0', 'GPU 0', 0], ['gpu:1', 'GPU 1', 0], ['cpu', 'CPU', 0]], 'idle lanes are shown');
      assert.deepEqual([before.swaps, before.buckets], [[], []]);

      assert.equal((await ask(h, 'a')).status, 200);
      assert.equal((await ask(h, 'b')).status, 200, 'b evicts a from GPU 0');
      assert.equal((await ask(h, 'small')).status, 200);
      const view = await timeline(h);
      assert.ok(view.from <= view.to && view.to - view.from < 60_000, 'from start-up to now');
      assert.deepEqual(statesOf(view, 'gpu:0', 'a'), ['loading', 'ready', 'stopping']);
      assert.deepEqual(statesOf(view, 'gpu:0', 'b'), ['loading', 'ready…']);
      assert.deepEqual(statesOf(view, 'cpu', 'small'), ['loading', 'ready…']);
      assert.deepEqual(view.lanes.find((l) => l.id === 'gpu:1')!.segments, []);
      const gpu0 = view.lanes.find((l) => l.id === 'gpu:0')!.segments;
      for (let i = 1; i < gpu0.length; i++) assert.ok(gpu0[i]!.from >= gpu0[i - 1]!.from, 'segments in time order');
      const aStopping = gpu0.find((s) => s.model === 'a' && s.state === 'stopping')!;
      const bLoading = gpu0.find((s) => s.model === 'b' && s.state === 'loading')!;
      assert.ok(aStopping.to! <= bLoading.to!, 'b became ready after a had stopped');

      assert.equal(view.swaps.length, 1);
      assert.deepEqual([view.swaps[0]!.from, view.swaps[0]!.to], [['a'], 'b']);
      assert.ok(view.swaps[0]!.at >= view.from && view.swaps[0]!.at <= view.to);

      assert.equal(view.bucketMs, 10_000);
      assert.equal(view.buckets.reduce((n, b) => n + b.requests, 0), 3);
      assert.equal(view.buckets.reduce((n, b) => n + b.errors, 0), 0);
      for (const b of view.buckets) {
        assert.equal(b.at % view.bucketMs, 0);
        assert.ok(typeof b.ttftMsAvg === 'number' && b.ttftMsAvg > 0 && b.ttftMsMax! >= b.ttftMsAvg, JSON.stringify(b));
      }
    } finally {
      await h.close();
    }
  });

  it('a model that sleeps keeps its GPU lane asleep, and its wake is a loading segment marked as one', async () => {
    const sleeper = `{ image: fake-model:latest, gpus: 1, command: [--enable-sleep-mode], env: { FAKE_WAKE_DELAY_MS: "30", FAKE_SLEEP_DELAY_MS: "10" }, sleep: { kind: vllm, level: 1, memory: 2g } }`;
    const h = await startApp(`defaults: { ttl: 0 }\nmodels:\n  a: ${sleeper}\n  b: { image: fake-model:latest, gpus: 1 }\n`);
    try {
      assert.equal((await ask(h, 'a')).status, 200);
      assert.equal((await ask(h, 'b')).status, 200);
      assert.equal(h.scheduler.snapshotOf('a')!.status, 'sleeping');
      assert.equal((await ask(h, 'a')).status, 200);
      const view = await timeline(h);
      assert.deepEqual(view.lanes.map((l) => l.id), ['gpu'], 'one pseudo GPU without an inventory');
      assert.deepEqual(statesOf(view, 'gpu', 'a'), ['loading', 'ready', 'sleeping', 'loading(wake)', 'ready…']);
      assert.deepEqual(statesOf(view, 'gpu', 'b'), ['loading', 'ready', 'stopping']);
      assert.deepEqual(view.swaps.map((s) => [s.from, s.to]), [[['a'], 'b'], [['b'], 'a']]);
    } finally {
      await h.close();
    }
  });
});

describe('GET /api/events?history=true', () => {
  it('sends the snapshot, then the recent model, load and swap events, then live ones; without the flag no history', async () => {
    const h = await startApp(`defaults: { ttl: 0, stopTimeout: 1s }\nmodels:\n  a: { image: fake-model:latest, gpus: 1 }\n  b: { image: fake-model:latest, gpus: 1 }\n`);
    try {
      assert.equal((await ask(h, 'a')).status, 200);
      assert.equal((await ask(h, 'b')).status, 200);
      const events = await readSse(`${h.url}/api/events?history=true`, (e) => e.length >= 2);
      assert.deepEqual(events.slice(0, 2).map((e) => e.event), ['snapshot', 'history']);
      const history = events[1]!.data.events as { event: string; data: { model?: string; to?: string; at: number } }[];
      const lines = history.filter((e) => e.event !== 'load').map((e) => (e.event === 'swap' ? `swap→${e.data.to}` : `${e.data.model}:${e.data.to}`));
      assert.deepEqual(lines, ['a:starting', 'a:ready', 'swap→b', 'a:stopping', 'b:starting', 'a:stopped', 'b:ready']);
      assert.ok(history.some((e) => e.event === 'load' && (e.data as { phase?: string }).phase === 'log'), 'a container line of a load');
      for (let i = 1; i < history.length; i++) assert.ok(history[i]!.data.at >= history[i - 1]!.data.at, 'oldest first');

      let unloaded: Promise<Response> | undefined;
      const plain = await readSse(`${h.url}/api/events`, (e) => e.some((x) => x.event === 'model' && x.data.to === 'stopped'), () => {
        unloaded = h.request('/api/models/b/unload', { method: 'POST' });
      });
      assert.equal((await unloaded!).status, 200);
      assert.equal(plain[0]!.event, 'snapshot');
      assert.deepEqual(plain.filter((e) => e.event === 'model').map((e) => e.data.to), ['stopping', 'stopped'], 'live events follow');
      assert.ok(!plain.some((e) => e.event === 'history'), 'no history unless asked for');
    } finally {
      await h.close();
    }
  });
});

describe('admin access', () => {
  it('/api/timeline needs an admin key when auth.keys are set', async () => {
    const h = await startApp(`
auth: { keys: [ { name: admin, key: sk-admin-0123456789, admin: true }, { name: client, key: sk-client-0123456789 } ] }
models:
  m: { image: fake-model:latest }
`);
    try {
      assert.equal((await h.request('/api/timeline')).status, 401);
      assert.equal((await h.request('/api/timeline', { headers: { authorization: 'Bearer sk-client-0123456789' } })).status, 403);
      const ok = await h.request('/api/timeline', { headers: { authorization: 'Bearer sk-admin-0123456789' } });
      assert.equal(ok.status, 200);
      assert.deepEqual(((await ok.json()) as TimelineView).lanes.map((l) => l.id), ['cpu']);
    } finally {
      await h.close();
    }
  });
});
