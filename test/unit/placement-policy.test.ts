import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidateDeviceSets, placeModel, type PlacementState, type ResidentModel } from '../../src/scheduler/placement-policy.js';

const G = 1024 ** 3;
const twoGpus = [{ id: '0', vramBytes: 24 * G }, { id: '1', vramBytes: 24 * G }];
const resident = (id: string, devices: string[], vramGb: number | undefined, extra: Partial<ResidentModel> = {}): ResidentModel => ({
  id, devices, vramBytes: vramGb === undefined ? undefined : vramGb * G, busy: false, pinned: false, lastUsedAt: 100, ...extra,
});
const target = (id: string, devices: 'all' | number | string[], vramGb?: number, conflicts: string[] = []) => ({
  id, gpu: { devices, vramBytes: vramGb === undefined ? undefined : vramGb * G }, conflicts: new Set(conflicts),
});
const state = (residents: ResidentModel[], extra: Partial<PlacementState> = {}): PlacementState => ({ devices: twoGpus, residents, ...extra });

describe('placeModel: fitting', () => {
  it('places beside loaded models when the budget allows', () => {
    const d = placeModel(target('b', 1, 10), state([resident('a', ['0'], 12)]));
    assert.equal(d.kind, 'place');
    assert.deepEqual(d.kind === 'place' && d.evict, []);
  });

  it('chooses the tightest fit among free devices', () => {
    const d = placeModel(target('b', 1, 10), state([resident('a', ['0'], 12)]));
    assert.deepEqual(d.kind === 'place' && d.devices, ['0'], 'GPU 0 has 12 GiB left, GPU 1 has 24: take the tighter');
  });

  it('honours fixed device ids', () => {
    const d = placeModel(target('b', ['1'], 30), { devices: [{ id: '0', vramBytes: 48 * G }, { id: '1', vramBytes: 32 * G }], residents: [] });
    assert.deepEqual(d.kind === 'place' && d.devices, ['1']);
  });

  it('takes every device for gpus: all', () => {
    const d = placeModel(target('big', 'all', 20), state([]));
    assert.deepEqual(d.kind === 'place' && d.devices, ['0', '1']);
  });

  it('treats a model without vram as needing whole GPUs', () => {
    const d = placeModel(target('whole', 1), state([resident('a', ['0'], 1)]));
    assert.deepEqual(d.kind === 'place' && d.devices, ['1']);
    const full = placeModel(target('whole', 2), state([resident('a', ['0'], 1)]));
    assert.deepEqual(full.kind === 'place' && full.evict, ['a']);
  });

  it('places CPU models anywhere', () => {
    const d = placeModel({ id: 'cpu', conflicts: new Set() }, state([resident('a', ['0', '1'], undefined)]));
    assert.deepEqual(d, { kind: 'place', devices: [], evict: [], reason: "'cpu' fits on the CPU beside the loaded models" });
  });
});

describe('placeModel: eviction', () => {
  it('evicts the least recently used idle model that frees enough', () => {
    const residents = [resident('old', ['0'], 20, { lastUsedAt: 10 }), resident('new', ['1'], 20, { lastUsedAt: 50 })];
    const d = placeModel(target('t', 1, 10), state(residents));
    assert.equal(d.kind, 'place');
    assert.deepEqual(d.kind === 'place' && d.evict, ['old']);
    assert.deepEqual(d.kind === 'place' && d.devices, ['0']);
    assert.match(d.kind === 'place' ? d.reason : '', /'old' \(idle, least recently used\)/);
  });

  it('evicts only as many as needed, oldest first', () => {
    const residents = [resident('a', ['0'], 8, { lastUsedAt: 1 }), resident('b', ['0'], 8, { lastUsedAt: 2 }), resident('c', ['0'], 8, { lastUsedAt: 3 })];
    const d = placeModel(target('t', ['0'], 12), state(residents));
    assert.deepEqual(d.kind === 'place' && d.evict, ['a', 'b']);
  });

  it('never evicts pinned models', () => {
    const residents = [resident('pinned', ['0'], 20, { pinned: true, lastUsedAt: 1 }), resident('other', ['1'], 20, { lastUsedAt: 99 })];
    const d = placeModel(target('t', 1, 10), state(residents));
    assert.deepEqual(d.kind === 'place' && d.evict, ['other']);
  });

  it('says impossible when only pinned models stand in the way', () => {
    const residents = [resident('p0', ['0'], 20, { pinned: true }), resident('p1', ['1'], 20, { pinned: true })];
    const d = placeModel(target('t', 1, 10), state(residents));
    assert.equal(d.kind, 'impossible');
    assert.match(d.reason, /pinned/);
  });

  it('waits for busy models instead of evicting them, naming them', () => {
    const residents = [resident('busy', ['0'], 20, { busy: true }), resident('busy2', ['1'], 20, { busy: true, lastUsedAt: 5 })];
    const d = placeModel(target('t', 1, 10), state(residents));
    assert.equal(d.kind, 'wait');
    assert.equal(d.kind === 'wait' && d.blockedBy.length, 1);
  });

  it('prefers evicting an idle model over waiting for a busy one', () => {
    const residents = [resident('busy', ['0'], 20, { busy: true, lastUsedAt: 1 }), resident('idle', ['1'], 20, { lastUsedAt: 99 })];
    const d = placeModel(target('t', 1, 10), state(residents));
    assert.deepEqual(d.kind === 'place' && d.evict, ['idle']);
  });
});

describe('placeModel: maxLoaded and conflicts', () => {
  it('caps the number of resident models, evicting the least recently used idle one', () => {
    const residents = [resident('cpu-old', [], undefined, { lastUsedAt: 1 }), resident('cpu-new', [], undefined, { lastUsedAt: 2 })];
    const d = placeModel({ id: 't', conflicts: new Set() }, state(residents, { maxLoaded: 2 }));
    assert.deepEqual(d.kind === 'place' && d.evict, ['cpu-old']);
  });

  it('waits when the cap is held by busy models', () => {
    const d = placeModel({ id: 't', conflicts: new Set() }, state([resident('x', [], undefined, { busy: true })], { maxLoaded: 1 }));
    assert.equal(d.kind, 'wait');
  });

  it('evicts conflicting models even when there is room', () => {
    const d = placeModel(target('t', 1, 1, ['enemy']), state([resident('enemy', ['0'], 1), resident('friend', ['1'], 1)]));
    assert.deepEqual(d.kind === 'place' && d.evict, ['enemy']);
    assert.match(d.kind === 'place' ? d.reason : '', /'enemy' \(conflicts\)/);
  });

  it('waits for a busy conflicting model; refuses a pinned one', () => {
    assert.equal(placeModel(target('t', 1, 1, ['enemy']), state([resident('enemy', ['0'], 1, { busy: true })])).kind, 'wait');
    assert.equal(placeModel(target('t', 1, 1, ['enemy']), state([resident('enemy', ['0'], 1, { pinned: true })])).kind, 'impossible');
  });

  it('exclusive mode: one pseudo device that every GPU model needs whole', () => {
    const devices = [{ id: 'x', vramBytes: 1 }];
    const d = placeModel({ id: 'b', gpu: { devices: ['x'] }, conflicts: new Set() }, { devices, residents: [resident('a', ['x'], undefined)] });
    assert.deepEqual(d.kind === 'place' && d.evict, ['a']);
  });
});

describe('candidateDeviceSets', () => {
  it('enumerates combinations for a count', () => {
    const devices = ['0', '1', '2'].map((id) => ({ id, vramBytes: G }));
    assert.deepEqual(candidateDeviceSets({ devices: 2 }, devices), [['0', '1'], ['0', '2'], ['1', '2']]);
    assert.deepEqual(candidateDeviceSets({ devices: 4 }, devices), []);
    assert.deepEqual(candidateDeviceSets({ devices: ['9'] }, devices), []);
    assert.deepEqual(candidateDeviceSets(undefined, devices), [[]]);
  });
});
