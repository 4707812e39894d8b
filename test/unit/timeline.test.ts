// The timeline's pure parts (src/scheduler/timeline.ts): status changes become segments on lanes,
// requests become fixed buckets (one O(1) update each, slots reused as time moves on), and the
// view groups segments by lane with the idle GPUs still shown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelStatus } from '../../src/scheduler/model-state.js';
import { RequestBuckets, SegmentLog, groupIntoLanes, laneIdsOf, laneSpec, standingLanes } from '../../src/scheduler/timeline.js';

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
