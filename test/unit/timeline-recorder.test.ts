// The timeline recorder on the scheduler's event bus with a fake clock (model, swap and request
// events become a view of the last hour, bounded), and the activity history the web UI's feed
// shows on page load (newest kept, a chatty load kept as its newest line).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityHistory } from '../../src/api/activity-history.js';
import { SchedulerEvents, type RequestEvent } from '../../src/scheduler/scheduler-events.js';
import { TimelineRecorder } from '../../src/scheduler/timeline-recorder.js';
import { RingBuffer } from '../../src/util/ring-buffer.js';

const HOUR = 3_600_000;

function recorder(options: { gpuIds?: string[]; windowMs?: number; maxSwaps?: number } = {}) {
  let now = 1_000_000;
  const events = new SchedulerEvents();
  const placement = new Map<string, { usesGpu: boolean; engine?: string; devices: string[] }>([
    ['a', { usesGpu: true, devices: ['0'] }],
    ['b', { usesGpu: true, devices: ['0'] }],
    ['cpu-model', { usesGpu: false, devices: [] }],
  ]);
  const timeline = new TimelineRecorder({
    events,
    now: () => now,
    placementOf: (id) => placement.get(id),
    gpuIds: () => options.gpuIds ?? ['0', '1'],
    models: () => placement.values(),
    windowMs: options.windowMs,
    maxSwaps: options.maxSwaps,
  });
  const request = (at: number, extra: Partial<RequestEvent> = {}) =>
    events.emit('request', { requestId: String(at), model: 'a', method: 'POST', path: '/v1/chat/completions', status: 200, durationMs: 5, ttftMs: 3, at, ...extra });
  return { events, timeline, request, placement, advance: (ms: number) => (now += ms), now: () => now };
}

describe('TimelineRecorder', () => {
  it('turns a load, a swap and requests into lanes, swap marks and buckets, from start-up to now', () => {
    const { events, timeline, request, advance, now } = recorder();
    const t0 = now();
    events.emit('model', { model: 'a', from: 'stopped', to: 'starting', at: t0 + 10 });
    events.emit('model', { model: 'a', from: 'starting', to: 'ready', at: t0 + 2010 });
    request(t0 + 2020);
    events.emit('swap', { from: ['a'], to: 'b', at: t0 + 5000 });
    events.emit('model', { model: 'a', from: 'ready', to: 'stopping', at: t0 + 5001 });
    events.emit('model', { model: 'a', from: 'stopping', to: 'stopped', at: t0 + 5500 });
    events.emit('model', { model: 'b', from: 'stopped', to: 'starting', at: t0 + 5500 });
    events.emit('model', { model: 'cpu-model', from: 'stopped', to: 'starting', at: t0 + 6000 });
    request(t0 + 6100, { model: 'b', status: 503, ttftMs: undefined });
    advance(7000);

    const view = timeline.view();
    assert.equal(view.from, t0, 'a server up for seconds shows those seconds');
    assert.equal(view.to, t0 + 7000);
    assert.equal(view.bucketMs, 10_000);
    assert.deepEqual(view.lanes.map((l) => [l.id, l.label, l.segments.map((s) => `${s.model}:${s.state}:${s.from - t0}-${s.to === undefined ? 'now' : s.to - t0}`)]), [
      ['gpu:0', 'GPU 0', ['a:loading:10-2010', 'a:ready:2010-5001', 'a:stopping:5001-5500', 'b:loading:5500-now']],
      ['gpu:1', 'GPU 1', []],
      ['cpu', 'CPU', ['cpu-model:loading:6000-now']],
    ]);
    assert.deepEqual(view.swaps, [{ from: ['a'], to: 'b', at: t0 + 5000 }]);
    assert.equal(view.buckets.reduce((n, b) => n + b.requests, 0), 2);
    assert.equal(view.buckets.reduce((n, b) => n + b.errors, 0), 1);
    assert.ok(view.buckets.some((b) => b.ttftMsMax === 3));
  });

  it('rolls the window on: after an hour and more, older segments, swaps and buckets are gone', () => {
    const { events, timeline, request, advance, now } = recorder();
    const t0 = now();
    events.emit('model', { model: 'a', from: 'stopped', to: 'starting', at: t0 });
    events.emit('model', { model: 'a', from: 'starting', to: 'ready', at: t0 + 1000 });
    events.emit('swap', { from: [], to: 'a', at: t0 });
    request(t0 + 1000);
    advance(HOUR + 60_000);
    events.emit('model', { model: 'b', from: 'stopped', to: 'starting', at: now() - 1000 });
    const view = timeline.view();
    assert.equal(view.from, now() - HOUR);
    assert.deepEqual(view.lanes[0]!.segments, [
      { model: 'a', state: 'ready', from: now() - HOUR }, // still ready: clipped to the window
      { model: 'b', state: 'loading', from: now() - 1000 },
    ]);
    assert.deepEqual(view.swaps, []);
    assert.deepEqual(view.buckets, []);
  });

  it('keeps a bounded number of swaps, and stops listening when closed', () => {
    const { events, timeline, advance, now } = recorder({ maxSwaps: 5 });
    for (let i = 0; i < 50; i++) events.emit('swap', { from: ['a'], to: 'b', at: now() + i });
    advance(100);
    assert.deepEqual(timeline.view().swaps.map((s) => s.at - now() + 100), [45, 46, 47, 48, 49]);
    timeline.close();
    assert.equal(events.listenerCount('request'), 0);
    assert.equal(events.listenerCount('model'), 0);
  });

  it('a model a reload removed (no snapshot any more) stops on the lane it held; the pseudo GPU without an inventory', () => {
    const { events, timeline, placement, advance, now } = recorder({ gpuIds: [] });
    placement.set('a', { usesGpu: true, devices: [] });
    events.emit('model', { model: 'a', from: 'stopped', to: 'starting', at: now() });
    events.emit('model', { model: 'a', from: 'starting', to: 'ready', at: now() + 5 });
    placement.delete('a');
    events.emit('model', { model: 'a', from: 'ready', to: 'stopping', at: now() + 8 });
    advance(10);
    const lanes = timeline.view().lanes;
    assert.deepEqual(lanes.map((l) => l.id), ['gpu', 'cpu']);
    assert.deepEqual(lanes[0]!.segments.map((s) => s.state), ['loading', 'ready', 'stopping']);
  });

  it('with a pool of several engines each lane is an engine’s: a model that fails over moves from tower/gpu:0 to rack/gpu:0', () => {
    const { events, timeline, placement, advance, now } = recorder();
    const pool = [{ name: 'tower', gpuIds: ['0'] }, { name: 'rack', gpuIds: ['0', '1'] }];
    const t0 = now();
    placement.set('a', { usesGpu: true, engine: 'tower', devices: ['0'] });
    events.emit('model', { model: 'a', engine: 'tower', from: 'stopped', to: 'starting', at: t0 });
    events.emit('model', { model: 'a', engine: 'tower', from: 'starting', to: 'ready', at: t0 + 10 });
    placement.set('a', { usesGpu: true, devices: [] }); // failed: it holds nothing
    events.emit('model', { model: 'a', engine: 'tower', from: 'ready', to: 'failed', at: t0 + 20 });
    placement.set('a', { usesGpu: true, engine: 'rack', devices: ['0'] });
    events.emit('model', { model: 'a', engine: 'rack', from: 'failed', to: 'starting', at: t0 + 30 });
    placement.set('cpu-model', { usesGpu: false, engine: 'rack', devices: [] });
    events.emit('model', { model: 'cpu-model', engine: 'rack', from: 'stopped', to: 'starting', at: t0 + 40 });
    advance(50);
    const of = (view: ReturnType<typeof timeline.view>) => view.lanes.map((l) => [l.id, l.label, l.segments.map((s) => `${s.model}:${s.state}${s.failed ? '!' : ''}`)]);
    assert.deepEqual(of(timeline.view(pool)), [
      ['tower/gpu:0', 'tower · GPU 0', ['a:loading', 'a:ready!']],
      ['tower/cpu', 'tower · CPU', []],
      ['rack/gpu:0', 'rack · GPU 0', ['a:loading']],
      ['rack/gpu:1', 'rack · GPU 1', []],
      ['rack/cpu', 'rack · CPU', ['cpu-model:loading']],
    ]);
    // One engine (no pool, or a pool of one): the ids and labels of before.
    for (const engines of [undefined, [{ name: 'default', gpuIds: ['0', '1'] }]]) {
      assert.deepEqual(of(timeline.view(engines)).map(([id]) => id), ['gpu:0', 'gpu:1', 'cpu']);
    }
  });
});

describe('ActivityHistory', () => {
  it('keeps model, load, swap and engine events oldest first; consecutive lines of one load as the newest', () => {
    const events = new SchedulerEvents();
    const history = new ActivityHistory(events, 4);
    events.emit('model', { model: 'a', from: 'stopped', to: 'starting', at: 1 });
    events.emit('load', { model: 'a', phase: 'log', message: 'line 1', at: 2 });
    events.emit('load', { model: 'a', phase: 'log', message: 'line 2', at: 3 });
    events.emit('load', { model: 'a', phase: 'pull', message: '50%', at: 4 });
    events.emit('model', { model: 'a', from: 'starting', to: 'ready', at: 5 });
    assert.deepEqual(history.entries().map((e) => [e.event, e.data.at]), [
      ['model', 1],
      ['load', 3],
      ['load', 4],
      ['model', 5],
    ]);
    events.emit('swap', { from: ['a'], to: 'b', at: 6 });
    events.emit('request', { requestId: 'r', method: 'GET', path: '/', status: 200, durationMs: 1, at: 7 });
    assert.deepEqual(history.entries().map((e) => [e.event, e.data.at]), [['load', 3], ['load', 4], ['model', 5], ['swap', 6]], 'bounded; requests are not activity');
    events.emit('engine', { engine: 'tower', state: 'down', reason: 'connection refused', at: 8 });
    events.emit('engine', { engine: 'tower', state: 'up', at: 9 });
    assert.deepEqual(history.entries().map((e) => [e.event, e.data.at]), [['model', 5], ['swap', 6], ['engine', 8], ['engine', 9]], 'an engine of a pool going away and coming back');
    assert.deepEqual(history.entries()[2]!.data, { engine: 'tower', state: 'down', reason: 'connection refused', at: 8 });
    history.close();
    assert.equal(events.listenerCount('model') + events.listenerCount('engine'), 0);
  });
});

describe('RingBuffer.replaceNewest', () => {
  it('replaces the newest item, or pushes into an empty ring', () => {
    const ring = new RingBuffer<number>(2);
    assert.equal(ring.newest(), undefined);
    ring.replaceNewest(1);
    ring.push(2);
    ring.push(3);
    ring.replaceNewest(4);
    assert.deepEqual(ring.toArray(), [2, 4]);
    assert.equal(ring.newest(), 4);
  });
});
