// A pool of engines (config `engines:`) on fake runtimes, through the real server: placement by
// free VRAM across engines, models.X.engines, an engine that goes away (its models fail over, a
// model that may run only there gets a 503 naming it), the engine coming back, and adoption on
// every engine after a restart. The same on real dockerds: test/integration/engine-pool.test.ts.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { EngineStateEvent, ModelStateEvent } from '../../src/scheduler/scheduler-events.js';
import { chat, silentLog, testConfig, waitFor } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { POOL_ENGINES, startFakePool, type FakePool } from '../support/fake-pool.js';

const POOL = `${POOL_ENGINES}models:
  small: { image: fake-model:latest, gpus: 1, vram: 20g }
  big: { image: fake-model:latest, gpus: 2, vram: 40g, engines: [rack] }
  towered: { image: fake-model:latest, gpus: 1, vram: 2g, engines: [tower] }
  tower-big: { image: fake-model:latest, gpus: 1, vram: 10g, engines: [tower] }
  cpu: { image: fake-model:latest }
`;

interface Pool extends FakePool {
  post(model: string): Promise<Response>;
  models(): Promise<{ id: string; status: string; engine?: string; devices: string[]; lastError?: string }[]>;
}

let open: Pool[] = [];
afterEach(async () => {
  for (const pool of open) await pool.close();
  open = [];
});

async function startPool(runtimes?: { tower: FakeRuntime; rack: FakeRuntime }): Promise<Pool> {
  const fake = await startFakePool(POOL, runtimes);
  const { server } = fake;
  const pool: Pool = {
    ...fake,
    post: (model) => fetch(`${server.url}/v1/chat/completions`, chat(model)),
    models: async () => ((await (await fetch(`${server.url}/api/models`)).json()) as { models: Awaited<ReturnType<Pool['models']>> }).models,
  };
  open.push(pool);
  return pool;
}

const engineOf = async (pool: Pool, id: string) => (await pool.models()).find((m) => m.id === id)?.engine;
const specsOf = (runtime: FakeRuntime, model: string) => runtime.createdSpecs.filter((s) => s.labels['io.swapdock.model'] === model);

describe('a pool of engines: placement', () => {
  it('places each model on the engine where it fits best, on that engine’s GPUs; /api/models names the engine', async () => {
    const pool = await startPool();
    assert.equal((await pool.post('big')).status, 200);
    assert.deepEqual(specsOf(pool.rack, 'big').map((s) => s.gpus), [{ kind: 'ids', ids: ['0', '1'] }]);
    assert.equal(await engineOf(pool, 'big'), 'rack');
    // rack has 8 GiB left on each GPU; tower's 24 GiB GPU is the only fit for 20 GiB.
    assert.equal((await pool.post('small')).status, 200);
    assert.equal(await engineOf(pool, 'small'), 'tower');
    assert.deepEqual(specsOf(pool.tower, 'small').map((s) => s.gpus), [{ kind: 'ids', ids: ['0'] }]);
    assert.equal(specsOf(pool.rack, 'small').length, 0);
  });

  it('models.X.engines: a model restricted to one engine runs there, even with room elsewhere', async () => {
    const pool = await startPool();
    assert.equal((await pool.post('small')).status, 200); // tower, alone
    assert.equal((await pool.post('towered')).status, 200); // tower: 2 GiB fits beside small
    assert.equal(await engineOf(pool, 'towered'), 'tower');
    assert.equal(specsOf(pool.rack, 'towered').length, 0);
  });
});

describe('a pool of engines: an engine goes away', () => {
  it('its models are marked failed within moments, naming the engine; their next request is served on another engine', async () => {
    const pool = await startPool();
    const events: ModelStateEvent[] = [];
    const engineEvents: EngineStateEvent[] = [];
    pool.server.scheduler.events.on('model', (e) => events.push(e));
    pool.server.scheduler.events.on('engine', (e) => engineEvents.push(e));
    assert.equal((await pool.post('small')).status, 200);
    assert.equal(await engineOf(pool, 'small'), 'tower');

    const goneAt = Date.now();
    pool.tower.goAway('connection refused');
    await waitFor(async () => (await pool.models()).find((m) => m.id === 'small')?.status === 'failed', 3000, 'small to be marked failed');
    const failed = (await pool.models()).find((m) => m.id === 'small')!;
    assert.match(failed.lastError ?? '', /engine 'tower' became unreachable \(.*connection refused/);
    assert.deepEqual(engineEvents.map((e) => `${e.engine} ${e.state}`), ['tower down']);
    assert.ok(events.some((e) => e.model === 'small' && e.to === 'failed' && e.engine === 'tower'), 'the failure event names the engine');

    const res = await pool.post('small');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await engineOf(pool, 'small'), 'rack');
    assert.equal(specsOf(pool.rack, 'small').length, 1);
    assert.ok(Date.now() - goneAt < 5000);
  });

  it('a model that may run only on the engine that is down gets a 503 naming the engine; once it is back it is served there', async () => {
    const pool = await startPool();
    pool.tower.goAway('connection refused');
    await waitFor(() => pool.server.scheduler.engineStates().find((e) => e.name === 'tower')?.unavailable !== undefined, 3000, 'tower to be marked unreachable');
    const res = await pool.post('towered');
    assert.equal(res.status, 503);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'engine_unavailable');
    assert.match(error.message, /Model 'towered' may run only on engine 'tower', which is unreachable/);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    // A model allowed anywhere is not held up by it.
    assert.equal((await pool.post('cpu')).status, 200);
    assert.equal(await engineOf(pool, 'cpu'), 'rack');

    pool.tower.comeBack();
    await waitFor(() => pool.server.scheduler.engineStates().every((e) => e.unavailable === undefined), 3000, 'tower to be used again');
    const back = await pool.post('towered');
    assert.equal(back.status, 200, await back.clone().text());
    assert.equal(await engineOf(pool, 'towered'), 'tower');
  });

  it('requests queued for a model loading on the engine that dies are served on another engine, even when the engine call hangs', async () => {
    const pool = await startPool();
    // The start on tower hangs, as an engine call to a host that is switched off does (for minutes).
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const originalCreate = pool.tower.create.bind(pool.tower);
    pool.tower.create = async (spec) => {
      await hung;
      return originalCreate(spec);
    };
    try {
      const pending = pool.post('small');
      await waitFor(async () => (await pool.models()).find((m) => m.id === 'small')?.status === 'starting', 3000, 'small to start on tower');
      assert.equal(await engineOf(pool, 'small'), 'tower');
      pool.tower.goAway('no route to host');
      const res = await pending;
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await engineOf(pool, 'small'), 'rack');
    } finally {
      release();
    }
  });
});

describe('a pool of engines: an engine that dies during a swap there', () => {
  it('the load waiting for the swap is abandoned, not started on the dead engine: its requests get a 503 naming the engine', async () => {
    const pool = await startPool();
    assert.equal((await pool.post('small')).status, 200);
    assert.equal(await engineOf(pool, 'small'), 'tower');
    // Stopping 'small' to make room hangs until the engine is gone; any create there hangs for good.
    let releaseStop!: () => void;
    const stopHangs = new Promise<void>((resolve) => (releaseStop = resolve));
    const originalStop = pool.tower.stop.bind(pool.tower);
    pool.tower.stop = async (id, timeoutMs) => {
      await stopHangs;
      return originalStop(id, timeoutMs);
    };
    let releaseCreate!: () => void;
    const createHangs = new Promise<void>((resolve) => (releaseCreate = resolve));
    const originalCreate = pool.tower.create.bind(pool.tower);
    pool.tower.create = async (spec) => {
      await createHangs;
      return originalCreate(spec);
    };
    try {
      const pending = pool.post('tower-big'); // 10 GiB beside small's 20 on a 24 GiB GPU: small is evicted
      await waitFor(async () => (await pool.models()).find((m) => m.id === 'small')?.status === 'stopping', 3000, 'small to be stopping');
      pool.tower.goAway('no route to host');
      await waitFor(() => pool.server.scheduler.engineStates().some((e) => e.unavailable !== undefined), 3000, 'tower to be marked unreachable');
      releaseStop(); // the stop now fails: the engine is gone
      const res = await pending;
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'engine_unavailable');
      assert.match(error.message, /'tower'/);
    } finally {
      releaseStop();
      releaseCreate();
    }
  });
});

describe('a pool of engines: an engine down at start-up', () => {
  it('swapdock starts with the engines that answer, and uses the other one as soon as it does', async () => {
    const tower = new FakeRuntime({ target: 'unix:///run/tower.sock' });
    tower.goAway('connection refused');
    const pool = await startPool({ tower, rack: new FakeRuntime({ target: 'tcp://10.0.0.12:2375' }) });
    assert.match(pool.server.scheduler.engineStates().find((e) => e.name === 'tower')?.unavailable ?? '', /connection refused/);
    assert.equal((await pool.post('small')).status, 200);
    assert.equal(await engineOf(pool, 'small'), 'rack');
    assert.equal((await pool.post('towered')).status, 503);
    tower.comeBack();
    await waitFor(() => pool.server.scheduler.engineStates().every((e) => e.unavailable === undefined), 3000, 'tower to be used');
    assert.equal((await pool.post('towered')).status, 200);
    assert.equal(await engineOf(pool, 'towered'), 'tower');
  });
});

describe('a pool of engines: adoption', () => {
  it('a restarted swapdock adopts the running containers on every engine, each on its own engine', async () => {
    const pool = await startPool();
    assert.equal((await pool.post('big')).status, 200);
    assert.equal((await pool.post('small')).status, 200);
    // A second swapdock over the same engines (the first one "restarted" without stopping its containers).
    const next = new Scheduler({
      engines: [
        { name: 'tower', runtime: pool.tower, gpus: testConfig(POOL).engines[0]!.gpus },
        { name: 'rack', runtime: pool.rack, gpus: testConfig(POOL).engines[1]!.gpus },
      ],
      config: testConfig(POOL),
      log: silentLog,
    });
    await next.adoptLeftovers();
    const snap = (id: string) => next.snapshotOf(id)!;
    assert.deepEqual([snap('big').status, snap('big').engine, snap('big').devices], ['ready', 'rack', ['0', '1']]);
    assert.deepEqual([snap('small').status, snap('small').engine, snap('small').devices], ['ready', 'tower', ['0']]);
    assert.equal(snap('big').containerId, pool.server.scheduler.snapshotOf('big')!.containerId);
    next.observer.close();
  });
});
