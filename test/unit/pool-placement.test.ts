import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeInPool, type PoolEngine, type PoolResident, type PoolTarget } from '../../src/scheduler/pool-placement.js';

const G = 1024 ** 3;
const tower: PoolEngine = { name: 'tower', devices: [{ id: '0', vramBytes: 24 * G }] };
const rack: PoolEngine = { name: 'rack', devices: [{ id: '0', vramBytes: 48 * G }, { id: '1', vramBytes: 48 * G }] };
const exclusive: PoolEngine = { name: 'box', devices: [{ id: 'exclusive-gpu', vramBytes: 1 }] };

const target = (id: string, gpus: number | 'all' | string[] | undefined, vramGb?: number, extra: Partial<PoolTarget> = {}): PoolTarget => ({
  id,
  gpuOn: (engine) => (gpus === undefined ? undefined : engine === 'box' ? { devices: ['exclusive-gpu'] } : { devices: gpus, vramBytes: vramGb === undefined ? undefined : vramGb * G }),
  conflicts: new Set(),
  ...extra,
});
const resident = (id: string, engine: string, devices: string[], vramGb: number | undefined, extra: Partial<PoolResident> = {}): PoolResident => ({
  id, engine, devices, vramBytes: vramGb === undefined ? undefined : vramGb * G, busy: false, pinned: false, lastUsedAt: 100, ...extra,
});

describe('placeInPool: choosing an engine', () => {
  it('places on the engine where the model fits without evicting anything', () => {
    const d = placeInPool(target('b', 1, 20), { engines: [tower, rack], residents: [resident('a', 'tower', ['0'], 20)] });
    assert.equal(d.kind, 'place');
    assert.equal(d.kind === 'place' && d.engine, 'rack');
    assert.deepEqual(d.kind === 'place' && d.evict, []);
  });

  it('picks the tightest fit of free VRAM across engines (the big engine stays free for big models)', () => {
    const d = placeInPool(target('small', 1, 10), { engines: [rack, tower], residents: [] });
    assert.equal(d.kind === 'place' && d.engine, 'tower', 'tower leaves 14 GiB, rack 38 GiB');
  });

  it('a GPU id on one engine is not the same GPU on another: residents elsewhere hold nothing here', () => {
    const d = placeInPool(target('b', ['0'], 40), { engines: [rack], residents: [resident('a', 'tower', ['0'], 24)] });
    assert.deepEqual(d.kind === 'place' && [d.engine, d.devices, d.evict], ['rack', ['0'], []]);
  });

  it('a model that needs more GPUs than one engine has goes where they are', () => {
    const d = placeInPool(target('big', 2, 40), { engines: [tower, rack], residents: [] });
    assert.deepEqual(d.kind === 'place' && [d.engine, d.devices], ['rack', ['0', '1']]);
  });

  it('evicts on the engine where that costs least, with the engine named in the reason', () => {
    const residents = [resident('old', 'tower', ['0'], 20, { lastUsedAt: 10 }), resident('r0', 'rack', ['0'], 40, { lastUsedAt: 50 }), resident('r1', 'rack', ['1'], 40, { lastUsedAt: 60 })];
    const d = placeInPool(target('t', 1, 20), { engines: [tower, rack], residents });
    assert.equal(d.kind, 'place');
    assert.deepEqual(d.kind === 'place' && [d.engine, d.evict], ['tower', ['old']]);
    assert.match(d.kind === 'place' ? d.reason : '', /engine 'tower'/);
  });

  it('ties go to the engine listed first (CPU models)', () => {
    const d = placeInPool(target('cpu', undefined), { engines: [rack, tower], residents: [] });
    assert.deepEqual(d.kind === 'place' && [d.engine, d.devices], ['rack', []]);
  });

  it('an engine whose GPUs are not measured takes one GPU model at a time', () => {
    const d = placeInPool(target('g', 1, 10), { engines: [exclusive], residents: [resident('a', 'box', ['exclusive-gpu'], undefined)] });
    assert.deepEqual(d.kind === 'place' && [d.engine, d.evict], ['box', ['a']]);
  });
});

describe('placeInPool: restrictions and pool-wide rules', () => {
  it('models.X.engines restricts where it may run', () => {
    const d = placeInPool(target('b', 1, 10, { engines: ['rack'] }), { engines: [tower, rack], residents: [] });
    assert.equal(d.kind === 'place' && d.engine, 'rack');
  });

  it('evicts on the allowed engine rather than use a free engine it may not use', () => {
    const d = placeInPool(target('b', 2, 40, { engines: ['rack'] }), { engines: [tower, rack], residents: [resident('a', 'rack', ['0'], 40)] });
    assert.deepEqual(d.kind === 'place' && [d.engine, d.evict], ['rack', ['a']]);
  });

  it('maxLoaded counts across the pool: a model on another engine is evicted to stay under it', () => {
    const d = placeInPool(target('b', 1, 10), { engines: [tower, rack], residents: [resident('a', 'rack', ['0'], 10)], maxLoaded: 1 });
    assert.equal(d.kind, 'place');
    assert.deepEqual(d.kind === 'place' && d.evict, ['a']);
  });

  it('conflicts hold across engines', () => {
    const d = placeInPool(target('b', 1, 10, { conflicts: new Set(['a']) }), { engines: [tower, rack], residents: [resident('a', 'rack', ['0'], 10)] });
    assert.deepEqual(d.kind === 'place' && d.evict, ['a']);
  });

  it('an unreachable engine is skipped', () => {
    const d = placeInPool(target('b', 1, 10), { engines: [{ ...tower, unavailable: 'connection refused' }, rack], residents: [] });
    assert.equal(d.kind === 'place' && d.engine, 'rack');
  });

  it('a model that may run only on an unreachable engine is refused, naming the engine', () => {
    const d = placeInPool(target('b', 1, 10, { engines: ['rack'] }), { engines: [tower, { ...rack, unavailable: 'connection refused' }], residents: [] });
    assert.equal(d.kind, 'impossible');
    assert.deepEqual(d.kind === 'impossible' && d.unreachable, ['rack']);
    assert.match(d.kind === 'impossible' ? d.reason : '', /'rack': connection refused/);
  });

  it('fits on no reachable engine: every engine says why, the unreachable one too', () => {
    const d = placeInPool(target('huge', 1, 40), { engines: [tower, { ...rack, unavailable: 'no route to host' }], residents: [] });
    assert.equal(d.kind, 'impossible');
    assert.equal(d.kind === 'impossible' && d.unreachable, undefined, 'not only unreachable engines: it does not fit on tower');
    assert.match(d.kind === 'impossible' ? d.reason : '', /on 'tower': .*cannot fit.*engine 'rack' is unreachable \(no route to host\)/);
  });

  it('a single engine keeps its messages as before (no engine named)', () => {
    const d = placeInPool(target('b', 1, 10), { engines: [tower], residents: [resident('a', 'tower', ['0'], 20)] });
    assert.equal(d.kind, 'place');
    assert.doesNotMatch(d.kind === 'place' ? d.reason : '', /engine/);
  });
});
