// What a pool of engines shows over HTTP (real server, two FakeRuntimes as in engine-pool.test.ts):
// GET /api/events forwards `engine` events and the engine of each model event, and replays engine
// events with ?history=true; GET /metrics has swapdock_model_engine, swapdock_engine_up and
// swapdock_engine_outages_total; GET /api/timeline keys each lane by its engine. An engine goes
// away while a model runs on it, the model fails over, and the engine comes back.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { TimelineView } from '../../src/scheduler/timeline.js';
import { chat, waitFor } from '../support/app-harness.js';
import { POOL_ENGINES, startFakePool, type FakePool } from '../support/fake-pool.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';
import { collectEvents, type SseEvent } from '../support/sse-events.js';

const POOL = `${POOL_ENGINES}models:
  small: { image: fake-model:latest, gpus: 1, vram: 20g }
  big: { image: fake-model:latest, gpus: 2, vram: 40g, engines: [rack] }
  cpu: { image: fake-model:latest, engines: [rack] }
`;

const pools: FakePool[] = [];
const streams: { close(): void }[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const pool of pools.splice(0)) await pool.close();
});

async function startPool() {
  const fake = await startFakePool(POOL);
  pools.push(fake);
  const { server, tower, rack } = fake;
  const get = async (path: string) => (await fetch(`${server.url}${path}`)).text();
  const post = async (model: string) => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat(model));
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
  };
  const sse = (path: string) => {
    const stream = collectEvents(`${server.url}${path}`);
    streams.push(stream);
    return stream;
  };
  const engineOf = async (id: string) => ((JSON.parse(await get('/api/models')) as { models: { id: string; engine?: string }[] }).models.find((m) => m.id === id)!.engine);
  return { server, tower, rack, get, post, sse, engineOf };
}

const until = async (events: SseEvent[], pred: (e: SseEvent) => boolean, what: string) => {
  await waitFor(() => events.some(pred), 5000, what);
  return events.find(pred)!;
};

describe('a pool of engines, as observers see it', () => {
  it('/api/events: model events name their engine; an engine going away and coming back is an `engine` event, replayed with ?history=true', async () => {
    const pool = await startPool();
    const live = pool.sse('/api/events');
    const snapshot = await until(live.events, (e) => e.event === 'snapshot', 'the snapshot');
    assert.deepEqual(snapshot.data.engines.map((e: { name: string; reachable: boolean }) => [e.name, e.reachable]), [['tower', true], ['rack', true]]);

    await pool.post('small'); // tower: the only GPU where 20 GiB fits best
    const ready = await until(live.events, (e) => e.event === 'model' && e.data.model === 'small' && e.data.to === 'ready', 'small ready');
    assert.equal(ready.data.engine, 'tower');
    assert.equal(live.events.find((e) => e.event === 'model' && e.data.to === 'starting')!.data.engine, 'tower', 'where it loads, from its first event');

    pool.tower.goAway('connection refused');
    const down = await until(live.events, (e) => e.event === 'engine', 'the engine event');
    assert.equal(down.data.engine, 'tower');
    assert.equal(down.data.state, 'down');
    assert.match(down.data.reason, /connection refused/);
    assert.equal(typeof down.data.at, 'number');
    const failed = await until(live.events, (e) => e.event === 'model' && e.data.model === 'small' && e.data.to === 'failed', 'small failed');
    assert.equal(failed.data.engine, 'tower');

    await pool.post('small'); // fails over to rack
    await until(live.events, (e) => e.event === 'model' && e.data.model === 'small' && e.data.to === 'ready' && e.data.engine === 'rack', 'small ready on rack');
    pool.tower.comeBack();
    const up = await until(live.events, (e) => e.event === 'engine' && e.data.state === 'up', 'the engine back');
    assert.deepEqual([up.data.engine, up.data.reason], ['tower', undefined]);

    // A client that connects now (the web UI after a reload) gets both in the history, in order.
    const later = pool.sse('/api/events?history=true');
    const history = await until(later.events, (e) => e.event === 'history', 'the history');
    const entries = history.data.events as { event: string; data: { engine?: string; state?: string; model?: string; to?: string } }[];
    assert.deepEqual(entries.filter((e) => e.event === 'engine').map((e) => `${e.data.engine} ${e.data.state}`), ['tower down', 'tower up']);
    assert.ok(entries.some((e) => e.event === 'model' && e.data.model === 'small' && e.data.to === 'failed' && e.data.engine === 'tower'));
    const snapshotNow = later.events.find((e) => e.event === 'snapshot')!;
    assert.deepEqual(snapshotNow.data.engines.map((e: { reachable: boolean }) => e.reachable), [true, true]);
  });

  it('/metrics: where each model runs (no stale series after it moved), each engine up or down, and outages counted', async () => {
    const pool = await startPool();
    const scrape = async () => parseExposition(await pool.get('/metrics'));
    const engineSeries = (samples: ReturnType<typeof parseExposition>) =>
      samples.filter((s) => s.name === 'swapdock_model_engine').map((s) => `${s.labels.model}@${s.labels.engine}=${s.value}`).sort();

    let samples = await scrape();
    assert.deepEqual(engineSeries(samples), [], 'nothing runs yet');
    assert.equal(sampleValue(samples, 'swapdock_engine_up', { engine: 'tower' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_engine_up', { engine: 'rack' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_engine_outages_total', { engine: 'tower' }), 0);

    await pool.post('small');
    await pool.post('cpu');
    assert.deepEqual(engineSeries(await scrape()), ['cpu@rack=1', 'small@tower=1']);

    pool.tower.goAway('connection refused');
    await waitFor(async () => sampleValue(await scrape(), 'swapdock_engine_up', { engine: 'tower' }) === 0, 5000, 'tower down in the metrics');
    samples = await scrape();
    assert.equal(sampleValue(samples, 'swapdock_engine_up', { engine: 'rack' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_engine_outages_total', { engine: 'tower' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_model_state', { model: 'small', state: 'failed' }), 1, 'model_state keeps its labels');
    assert.deepEqual(engineSeries(samples), ['cpu@rack=1'], 'a failed model holds no engine');

    await pool.post('small');
    assert.equal(await pool.engineOf('small'), 'rack');
    assert.deepEqual(engineSeries(await scrape()), ['cpu@rack=1', 'small@rack=1'], 'moved: no series left saying it is on tower');

    pool.tower.comeBack();
    await waitFor(async () => sampleValue(await scrape(), 'swapdock_engine_up', { engine: 'tower' }) === 1, 5000, 'tower up in the metrics');
    assert.equal(sampleValue(await scrape(), 'swapdock_engine_outages_total', { engine: 'tower' }), 1);
  });

  it('/api/timeline: a lane per GPU of each engine (GPU 0 twice), and a model that failed over on both engines', async () => {
    const pool = await startPool();
    const view = async () => JSON.parse(await pool.get('/api/timeline')) as TimelineView;
    const fresh = await view();
    // cpu may run only on rack: no CPU lane for tower.
    assert.deepEqual(fresh.lanes.map((l) => [l.id, l.label]), [
      ['tower/gpu:0', 'tower · GPU 0'],
      ['rack/gpu:0', 'rack · GPU 0'],
      ['rack/gpu:1', 'rack · GPU 1'],
      ['rack/cpu', 'rack · CPU'],
    ]);

    await pool.post('small');
    pool.tower.goAway('connection refused');
    await waitFor(() => pool.server.scheduler.snapshotOf('small')!.status === 'failed', 5000, 'small failed');
    await pool.post('small');
    const device = pool.server.scheduler.snapshotOf('small')!.devices[0]!;
    const lanes = (await view()).lanes;
    const statesOn = (id: string) => lanes.find((l) => l.id === id)!.segments.filter((s) => s.model === 'small').map((s) => s.state + (s.failed ? '(failed)' : ''));
    assert.deepEqual(statesOn('tower/gpu:0'), ['loading', 'ready(failed)']);
    assert.deepEqual(statesOn(`rack/gpu:${device}`), ['loading', 'ready']);
    assert.equal(lanes.filter((l) => l.segments.some((s) => s.model === 'small')).length, 2, 'on no other lane');
  });
});
