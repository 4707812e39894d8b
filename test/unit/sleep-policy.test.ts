import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRelease, decideReleases, defaultSleepMemory } from '../../src/scheduler/sleep-policy.js';
import { placeModel } from '../../src/scheduler/placement-policy.js';

const G = 1024 ** 3;

describe('sleep policy: sleep or stop a model that must give its GPU back', () => {
  it('stops a model without a sleep kind', () => {
    assert.equal(decideRelease({ id: 'a', canSleep: false, memoryBytes: 0 }, [], 64 * G).kind, 'stop');
  });

  it('sleeps when engine.sleepMemory has room', () => {
    const d = decideRelease({ id: 'a', canSleep: true, memoryBytes: 18 * G }, [{ id: 'x', memoryBytes: 20 * G, since: 1 }], 64 * G);
    assert.deepEqual(d.kind === 'sleep' && d.stopSleepers, []);
  });

  it('stops the least recently used sleepers, oldest first, until it fits', () => {
    const sleeping = [
      { id: 'new', memoryBytes: 20 * G, since: 300 },
      { id: 'old', memoryBytes: 20 * G, since: 100 },
      { id: 'mid', memoryBytes: 20 * G, since: 200 },
    ];
    const d = decideRelease({ id: 'a', canSleep: true, memoryBytes: 30 * G }, sleeping, 64 * G);
    assert.equal(d.kind, 'sleep');
    assert.deepEqual(d.kind === 'sleep' && d.stopSleepers, ['old', 'mid']);
  });

  it('never stops a model being woken to make room (a wake and a sleep overlap), and then stops the model instead', () => {
    const d = decideRelease({ id: 'a', canSleep: true, memoryBytes: 30 * G }, [{ id: 'waking', memoryBytes: 50 * G, since: 1, protected: true }], 64 * G);
    assert.equal(d.kind, 'stop');
    assert.match(d.reason, /being woken/);
  });

  it('stops a model that needs more than the whole budget, saying so', () => {
    const d = decideRelease({ id: 'a', canSleep: true, memoryBytes: 80 * G }, [], 64 * G);
    assert.equal(d.kind, 'stop');
    assert.match(d.reason, /80 GiB.*more than engine\.sleepMemory \(64 GiB\)/);
  });

  it('decides several evictions in order, each sleeper counting for the next', () => {
    const out = decideReleases(
      [
        { id: 'a', canSleep: true, memoryBytes: 40 * G },
        { id: 'b', canSleep: true, memoryBytes: 40 * G },
        { id: 'c', canSleep: false, memoryBytes: 0 },
      ],
      [],
      64 * G,
      1000,
    );
    assert.deepEqual([...out.entries()].map(([id, d]) => `${id}:${d.kind}`), ['a:sleep', 'b:stop', 'c:stop']);
  });

  it('defaults to the host memory minus 8 GiB, never below 0', () => {
    assert.equal(defaultSleepMemory(72 * G), 64 * G);
    assert.equal(defaultSleepMemory(4 * G), 0);
  });
});

describe('placement with sleeping models', () => {
  const devices = [{ id: '0', vramBytes: 24 * G }];
  const model = (id: string, extra: object = {}) => ({ id, devices: ['0'], vramBytes: 20 * G, busy: false, pinned: false, lastUsedAt: 1, ...extra });

  it('a sleeping model holds only its residual VRAM: a model fits beside it without evicting it', () => {
    const d = placeModel({ id: 't', gpu: { devices: 1, vramBytes: 20 * G }, conflicts: new Set() }, { devices, residents: [model('s', { vramBytes: 1 * G, asleep: true })] });
    assert.deepEqual(d.kind === 'place' && d.evict, []);
  });

  it('an evicted model that can sleep is counted with its residual; a sleeper is stopped when that residual is in the way', () => {
    const d = placeModel(
      { id: 't', gpu: { devices: 1, vramBytes: 23 * G }, conflicts: new Set() },
      { devices, residents: [model('awake', { lastUsedAt: 5, sleepVramBytes: 1 * G }), model('s', { vramBytes: 1 * G, asleep: true, lastUsedAt: 1 })] },
    );
    assert.equal(d.kind, 'place');
    assert.deepEqual(d.kind === 'place' && d.evict.sort(), ['awake', 's'], 'awake first (it sleeps), then the older sleeper');
  });

  it('evicts idle awake models before sleeping ones, and sleepers do not count toward maxLoaded', () => {
    const wide = [{ id: '0', vramBytes: 80 * G }];
    const d = placeModel(
      { id: 't', gpu: { devices: 1, vramBytes: 20 * G }, conflicts: new Set() },
      { devices: wide, maxLoaded: 2, residents: [model('s1', { asleep: true, vramBytes: 1 * G }), model('s2', { asleep: true, vramBytes: 1 * G }), model('awake', { lastUsedAt: 9 })] },
    );
    assert.deepEqual(d.kind === 'place' && d.evict, []);
  });

  it('a sleeping model is not a conflict', () => {
    const d = placeModel({ id: 't', gpu: { devices: 1, vramBytes: 1 * G }, conflicts: new Set(['s']) }, { devices, residents: [model('s', { asleep: true, vramBytes: 1 * G })] });
    assert.deepEqual(d.kind === 'place' && d.evict, []);
  });
});
