// The timeline's pure parts (src/scheduler/timeline.ts): status changes become segments on lanes,
// requests become fixed buckets (one O(1) update each, slots reused as time moves on), and the
// view groups segments by lane with the idle GPUs still shown; with a pool of several engines,
// each lane is one engine's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelStatus } from '../../src/scheduler/model-state.js';
import { RequestBuckets, SegmentLog, groupIntoLanes, laneIdsOf, laneSpec, poolStandingLanes, standingLanes } from '../../src/scheduler/timeline.js';

const change = (model: string, from: ModelStatus, to: ModelStatus, at: number) => ({ model, from, to, at });
const plain = (segments: ReturnType<SegmentLog['since']>) => segments.map((s) => ({ ...s, lanes: [...s.lanes] }));

describe('SegmentLog', () => {
  it('a load, a time ready and a stop are three segments on the lanes the model was placed on', () => {
    const log = new SegmentLog(100);
    log.apply(change('a', 'stopped', 'starting', 1000), ['gpu:0']);
    log.apply(change('a', 'starting', 'ready', 3000), ['gpu:0']);
    assert.deepEqual(plain(log.since(0)), [
      { model: 'a', state: 'loading', from: 1000, to: 3000, lanes: ['gpu:0'] },
      { model: 'a', state: 'ready', from: 3000, lanes: ['gpu:0'] },
    ]);
    log.apply(change('a', 'ready', 'stopping', 9000), ['gpu:0']);
    log.apply(change('a', 'stopping', 'stopped', 9500), []);
    assert.deepEqual(plain(log.since(0)), [
      { model: 'a', state: 'loading', from: 1000, to: 3000, lanes: ['gpu:0'] },
      { model: 'a', state: 'ready', from: 3000, to: 9000, lanes: ['gpu:0'] },
      { model: 'a', state: 'stopping', from: 9000, to: 9500, lanes: ['gpu:0'] },
    ]);
  });

  it('marks a wake, keeps a sleeping model on its GPU, and marks the state a failure ended', () => {
    const log = new SegmentLog(100);
    log.apply(change('a', 'ready', 'sleeping', 10), ['gpu:1']);
    log.apply(change('a', 'sleeping', 'starting', 20), ['gpu:1']);
    log.apply(change('a', 'starting', 'ready', 25), ['gpu:1']);
    log.apply(change('a', 'ready', 'failed', 40), ['gpu:1']);
    assert.deepEqual(plain(log.since(0)), [
      { model: 'a', state: 'sleeping', from: 10, to: 20, lanes: ['gpu:1'] },
      { model: 'a', state: 'loading', from: 20, to: 25, wake: true, lanes: ['gpu:1'] },
      { model: 'a', state: 'ready', from: 25, to: 40, failed: true, lanes: ['gpu:1'] },
    ]);
  });

  it('a status reported without a placement stays on the lanes of the state before', () => {
    const log = new SegmentLog(100);
    log.apply(change('a', 'stopped', 'starting', 0), ['gpu:0', 'gpu:1']);
    log.apply(change('a', 'starting', 'ready', 5), []);
    assert.deepEqual(log.since(0).at(-1)!.lanes, ['gpu:0', 'gpu:1']);
  });

  it('keeps the engine a segment is on; a status reported without a placement stays on the engine before', () => {
    const log = new SegmentLog(100);
    log.apply(change('a', 'stopped', 'starting', 0), ['gpu:0'], 'rack');
    log.apply(change('a', 'starting', 'ready', 5), []);
    assert.deepEqual(plain(log.since(0)).map((s) => [s.state, s.engine, s.lanes]), [['loading', 'rack', ['gpu:0']], ['ready', 'rack', ['gpu:0']]]);
    log.apply(change('a', 'ready', 'failed', 9), []);
    log.apply(change('a', 'failed', 'starting', 10), ['gpu:0'], 'tower'); // failed over
    assert.deepEqual(log.since(0).at(-1)!.engine, 'tower');
  });

  it('returns what overlaps the window, clipped to its start, and keeps at most `capacity` closed segments', () => {
    const log = new SegmentLog(3);
    log.apply(change('a', 'stopped', 'starting', 0), ['cpu']);
    log.apply(change('a', 'starting', 'ready', 100), ['cpu']);
    log.apply(change('b', 'stopped', 'starting', 150), ['cpu']);
    log.apply(change('a', 'ready', 'stopping', 200), ['cpu']);
    assert.deepEqual(log.since(120).map((s) => [s.model, s.state, s.from, s.to]), [
      ['a', 'ready', 120, 200],
      ['b', 'loading', 150, undefined],
      ['a', 'stopping', 200, undefined],
    ]);
    for (let i = 0; i < 10; i++) {
      log.apply(change('c', 'stopped', 'starting', 1000 + i * 10), ['cpu']);
      log.apply(change('c', 'starting', 'stopped', 1005 + i * 10), ['cpu']);
    }
    const closed = log.since(0).filter((s) => s.to !== undefined);
    assert.equal(closed.length, 3, 'the ring holds three closed segments');
    assert.deepEqual(closed.map((s) => s.from), [1070, 1080, 1090], 'the newest ones');
  });
});

describe('RequestBuckets', () => {
  it('counts requests and 5xx answers per bucket, with the average and the largest time to first token', () => {
    const buckets = new RequestBuckets(10_000, 60_000);
    buckets.record(100_000, 200, 40);
    buckets.record(105_000, 200, 60);
    buckets.record(109_999, 503, undefined);
    buckets.record(112_000, 200, 1500);
    assert.deepEqual(buckets.since(0), [
      { at: 100_000, requests: 3, errors: 1, ttftMsAvg: 50, ttftMsMax: 60 },
      { at: 110_000, requests: 1, errors: 0, ttftMsAvg: 1500, ttftMsMax: 1500 },
    ]);
    assert.deepEqual(buckets.since(110_500).map((b) => b.at), [110_000], 'from the bucket holding `since`');
  });

  it('a bucket without a time to first token has no TTFT fields', () => {
    const buckets = new RequestBuckets(10_000, 60_000);
    buckets.record(0, 499, undefined);
    assert.deepEqual(buckets.since(0), [{ at: 0, requests: 1, errors: 0 }]);
  });

  it('reuses a slot once its bucket has left the window, and ignores a request older than what the ring holds', () => {
    const buckets = new RequestBuckets(10_000, 30_000); // 4 slots
    buckets.record(0, 200, 10);
    buckets.record(40_000, 200, 20); // same slot as bucket 0: reset, not added
    assert.deepEqual(buckets.since(0), [{ at: 40_000, requests: 1, errors: 0, ttftMsAvg: 20, ttftMsMax: 20 }]);
    buckets.record(1_000, 200, 10); // bucket 0 is gone for good
    assert.deepEqual(buckets.since(0).map((b) => [b.at, b.requests]), [[40_000, 1]]);
    for (let t = 50_000; t < 200_000; t += 10_000) buckets.record(t, 200, 5);
    assert.deepEqual(buckets.since(0).map((b) => b.at), [160_000, 170_000, 180_000, 190_000], 'an hour of traffic keeps a fixed number of buckets');
  });
});

describe('lanes', () => {
  it('a model is on the lanes of its GPUs; without GPU ids on the pseudo GPU of exclusive mode, or on the CPU', () => {
    assert.deepEqual(laneIdsOf({ usesGpu: true, devices: ['0', '1'] }), ['gpu:0', 'gpu:1']);
    assert.deepEqual(laneIdsOf({ usesGpu: true, devices: [] }), ['gpu']);
    assert.deepEqual(laneIdsOf({ usesGpu: false, devices: [] }), ['cpu']);
    assert.deepEqual(laneSpec('gpu:0'), { id: 'gpu:0', kind: 'gpu', device: '0', label: 'GPU 0' });
    assert.deepEqual(laneSpec('cpu'), { id: 'cpu', kind: 'cpu', label: 'CPU' });
  });

  it('shows every GPU of the inventory and the CPU while idle, and the pseudo GPU only without an inventory', () => {
    assert.deepEqual(standingLanes(['0', '1'], [{ usesGpu: true }, { usesGpu: false }]), ['gpu:0', 'gpu:1', 'cpu']);
    assert.deepEqual(standingLanes(undefined, [{ usesGpu: true }]), ['gpu']);
    assert.deepEqual(standingLanes(undefined, [{ usesGpu: false }]), ['cpu']);
    assert.deepEqual(standingLanes([], []), []);
  });

  it('groups segments by lane (a model on two GPUs on both), standing lanes first, idle ones empty', () => {
    const lanes = groupIntoLanes(['gpu:0', 'gpu:1', 'cpu'], [
      { model: 'big', state: 'ready', from: 1, lanes: ['gpu:0', 'gpu:1'] },
      { model: 'old', state: 'ready', from: 2, to: 3, lanes: ['gpu:7'] },
      { model: 'x', state: 'loading', from: 4, lanes: ['gpu'] },
    ]);
    assert.deepEqual(lanes.map((l) => [l.id, l.segments.map((s) => s.model)]), [
      ['gpu:0', ['big']],
      ['gpu:1', ['big']],
      ['cpu', []],
      ['gpu', ['x']],
      ['gpu:7', ['old']],
    ]);
    assert.deepEqual(lanes[0]!.segments[0], { model: 'big', state: 'ready', from: 1 }, 'segments carry no lane list');
  });
});

describe('lanes of a pool of engines', () => {
  it('a lane id names its engine before a slash; GPU ids may hold slashes (MIG) without an engine', () => {
    assert.deepEqual(laneSpec('tower/gpu:0'), { id: 'tower/gpu:0', kind: 'gpu', engine: 'tower', device: '0', label: 'tower · GPU 0' });
    assert.deepEqual(laneSpec('rack/gpu'), { id: 'rack/gpu', kind: 'gpu', engine: 'rack', label: 'rack · GPU' });
    assert.deepEqual(laneSpec('edge-1.lan/cpu'), { id: 'edge-1.lan/cpu', kind: 'cpu', engine: 'edge-1.lan', label: 'edge-1.lan · CPU' });
    assert.deepEqual(laneSpec('gpu:MIG-GPU-5c/1/0'), { id: 'gpu:MIG-GPU-5c/1/0', kind: 'gpu', device: 'MIG-GPU-5c/1/0', label: 'GPU MIG-GPU-5c/1/0' });
    assert.equal(laneSpec('rack/gpu:MIG-GPU-5c/1/0').device, 'MIG-GPU-5c/1/0');
  });

  it('stands each engine’s GPUs, and its pseudo GPU and CPU lanes only for models that may run there', () => {
    const engines = [{ name: 'tower', gpuIds: ['0'] }, { name: 'rack', gpuIds: ['0', '1'] }, { name: 'edge' }];
    const anywhere = { usesGpu: true };
    const cpuOnEdge = { usesGpu: false, model: { engines: ['edge'] } };
    const gpuOnRack = { usesGpu: true, model: { engines: ['rack'] } };
    assert.deepEqual(poolStandingLanes(engines, [anywhere, cpuOnEdge, gpuOnRack]), ['tower/gpu:0', 'rack/gpu:0', 'rack/gpu:1', 'edge/gpu', 'edge/cpu']);
    assert.deepEqual(poolStandingLanes(engines, [gpuOnRack]), ['tower/gpu:0', 'rack/gpu:0', 'rack/gpu:1'], 'no GPU model may use edge: no lane for it');
  });

  it('GPU 0 of two engines are two lanes; lanes stay together by engine, in the order of the engines', () => {
    const lanes = groupIntoLanes(['tower/gpu:0', 'rack/gpu:0', 'rack/gpu:1', 'rack/cpu'], [
      { model: 'small', state: 'ready', from: 1, to: 2, failed: true, lanes: ['gpu:0'], engine: 'tower' },
      { model: 'small', state: 'loading', from: 3, lanes: ['gpu:0'], engine: 'rack' },
      { model: 'big', state: 'ready', from: 1, lanes: ['gpu:0', 'gpu:1'], engine: 'rack' },
      { model: 'old', state: 'ready', from: 1, to: 2, lanes: ['gpu:5'], engine: 'tower' }, // a GPU a reload removed
    ], true);
    assert.deepEqual(lanes.map((l) => [l.id, l.engine, l.segments.map((s) => s.model + ':' + s.state)]), [
      ['tower/gpu:0', 'tower', ['small:ready']],
      ['tower/gpu:5', 'tower', ['old:ready']],
      ['rack/gpu:0', 'rack', ['small:loading', 'big:ready']],
      ['rack/gpu:1', 'rack', ['big:ready']],
      ['rack/cpu', 'rack', []],
    ]);
    assert.deepEqual(lanes[0]!.segments[0], { model: 'small', state: 'ready', from: 1, to: 2, failed: true }, 'segments carry no lane list or engine');
  });

  it('with one engine the ids stay unprefixed, whatever engine the segments name', () => {
    const lanes = groupIntoLanes(['gpu:0'], [{ model: 'a', state: 'ready', from: 1, lanes: ['gpu:0'], engine: 'default' }]);
    assert.deepEqual(lanes.map((l) => [l.id, l.label, l.segments.length]), [['gpu:0', 'GPU 0', 1]]);
  });
});
