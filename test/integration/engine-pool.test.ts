// A pool of two real Docker engines (config `engines:`), each a dockerd in a network namespace of
// its own made by the test and reached over TCP — 'rack' with mutual TLS — with the fake NVIDIA
// hook, so GPU containers start: placement across them by free VRAM, models.X.engines, ports
// published on each engine's own address, an engine killed (SIGKILL) and restarted under a
// running swapdock, and adoption on both engines by a restarted swapdock.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type Docker from 'dockerode';
import { connectEngines } from '../../src/cli/connect-engines.js';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { noGpuInventory } from '../../src/runtime/gpu-inventory.js';
import { LABEL_INSTANCE, LABEL_MODEL } from '../../src/runtime/labels.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { silentLog } from '../support/app-harness.js';
import { chatBody, runInstance } from '../support/engine-harness.js';
import { requireEnginePool, type EnginePool } from '../support/engine-pool-harness.js';
import { POOL, run } from '../support/engine-pool-system.js';
import { waitUntil } from '../support/faults.js';

interface ApiModel { id: string; status: string; engine?: string; devices: string[]; containerId?: string; lastError?: string }
interface ErrorBody { error: { message: string; code: string } }

function poolYaml(pool: EnginePool, instance: string): string {
  const tower = pool.engine('tower');
  const rack = pool.engine('rack');
  return `
instance: ${instance}
listen: 127.0.0.1:0
engines:
  - name: tower
    host: ${tower.host}
    gpus: [{ id: 0, vram: 24g }]
  - name: rack
    host: ${rack.host}
    tls: { ca: ${rack.tls!.ca}, cert: ${rack.tls!.cert}, key: ${rack.tls!.key} }
    gpus: [{ id: 0, vram: 48g }, { id: 1, vram: 48g }]
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  small: { image: ${pool.image}, pull: never, gpus: 1, vram: 20g }
  big: { image: ${pool.image}, pull: never, gpus: 2, vram: 20g, engines: [rack] }
  towered: { image: ${pool.image}, pull: never, gpus: 1, vram: 2g, engines: [tower] }
`;
}

describe('a pool of two real engines (dockerds in network namespaces, over TCP, one with TLS)', { timeout: 600_000 }, () => {
  let pool: EnginePool | null = null;
  let sd: RunningServer | undefined;
  const instance = runInstance('pool');

  const post = (model: string) => fetch(`${sd!.url}/v1/chat/completions`, chatBody(model));
  const models = async (): Promise<ApiModel[]> => ((await (await fetch(`${sd!.url}/api/models`)).json()) as { models: ApiModel[] }).models;
  const model = async (id: string) => (await models()).find((m) => m.id === id)!;
  const mine = async (docker: Docker) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
  const inspect = async (docker: Docker, id: string) => docker.getContainer(id).inspect();

  before(async () => {
    pool = await requireEnginePool({ names: ['tower', 'rack'], tls: 'rack' });
    if (!pool) return;
    const config = parseConfigText(poolYaml(pool, instance), 'pool test', {});
    sd = await startServer({ config, log: silentLog, inventory: noGpuInventory });
  });

  after(async () => {
    await sd?.shutdown().catch(() => undefined);
    await pool?.stop();
  });

  it('places each model by free VRAM on an engine it may use, on that engine’s GPUs, published on that engine’s address', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const tower = pool.engine('tower');
    const rack = pool.engine('rack');
    assert.equal((await post('big')).status, 200);
    assert.equal((await post('small')).status, 200); // tightest fit: tower's 24 GiB GPU (4 left) over rack's (28 left)
    assert.equal((await post('towered')).status, 200); // 2 GiB fits beside small on tower
    const big = await model('big');
    const small = await model('small');
    const towered = await model('towered');
    assert.deepEqual([big.engine, big.devices], ['rack', ['0', '1']]);
    assert.deepEqual([small.engine, small.devices], ['tower', ['0']]);
    assert.deepEqual([towered.engine, towered.devices], ['tower', ['0']]);

    const bigInfo = await inspect(rack.docker, big.containerId!);
    assert.deepEqual(bigInfo.HostConfig.DeviceRequests?.[0]?.DeviceIDs, ['0', '1']);
    assert.equal(bigInfo.HostConfig.PortBindings['8000/tcp']?.[0]?.HostIp, rack.ip, 'published on rack’s address, never 0.0.0.0');
    const smallInfo = await inspect(tower.docker, small.containerId!);
    assert.deepEqual(smallInfo.HostConfig.DeviceRequests?.[0]?.DeviceIDs, ['0']);
    assert.equal(smallInfo.HostConfig.PortBindings['8000/tcp']?.[0]?.HostIp, tower.ip);
    assert.deepEqual((await mine(rack.docker)).map((c) => c.Labels[LABEL_MODEL]), ['big']);
    assert.deepEqual((await mine(tower.docker)).map((c) => c.Labels[LABEL_MODEL]).sort(), ['small', 'towered']);
  });

  it('adoption: a restarted swapdock adopts the running containers on both engines, each on its own engine and GPUs', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const config = parseConfigText(poolYaml(pool, instance), 'pool test', {});
    const engines = await connectEngines({ config, log: silentLog, current: () => config, inventory: noGpuInventory });
    const next = new Scheduler({ engines, config, log: silentLog, inventory: noGpuInventory });
    try {
      await next.adoptLeftovers();
      for (const id of ['big', 'small', 'towered']) {
        const before = await model(id);
        const adopted = next.snapshotOf(id)!;
        assert.deepEqual([adopted.status, adopted.engine, adopted.devices, adopted.containerId], ['ready', before.engine, before.devices, before.containerId], id);
      }
    } finally {
      next.observer.close();
    }
  });

  it('an engine killed mid-run: its models fail within seconds naming it, requests are served on the other engine, a model bound to it gets 503 naming it', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const killedAt = Date.now();
    await pool.kill('tower');
    await waitUntil('small to be marked failed', async () => (await model('small')).status === 'failed', 15_000);
    const failedMs = Date.now() - killedAt;
    assert.match((await model('small')).lastError ?? '', /engine 'tower' became unreachable/);
    assert.equal((await model('towered')).status, 'failed');
    assert.equal((await model('big')).status, 'ready', 'the other engine’s model is untouched');

    const res = await post('small');
    const servedMs = Date.now() - killedAt;
    assert.equal(res.status, 200, await res.clone().text());
    const moved = await model('small');
    assert.equal(moved.engine, 'rack');
    assert.equal((await model('big')).status, 'ready', 'small fits beside big on rack: nothing evicted');
    t.diagnostic(`tower killed: its models marked failed after ${failedMs} ms; a request for 'small' served on rack ${servedMs} ms after the kill`);

    const refused = await post('towered');
    assert.equal(refused.status, 503);
    const { error } = (await refused.json()) as ErrorBody;
    assert.equal(error.code, 'engine_unavailable');
    assert.match(error.message, /may run only on engine 'tower', which is unreachable/);
  });

  it('the engine restarted: swapdock uses it again without a restart, and leaves no stray container there', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const tower = pool.engine('tower');
    const restartedAt = Date.now();
    await pool.restart('tower');
    await waitUntil('tower to be used again', () => sd!.scheduler.engineStates().every((e) => e.unavailable === undefined), 15_000);
    t.diagnostic(`tower answered again; swapdock noticed ${Date.now() - restartedAt} ms after the restart began`);
    const res = await post('towered');
    assert.equal(res.status, 200, await res.clone().text());
    const towered = await model('towered');
    assert.equal(towered.engine, 'tower');
    await waitUntil('only the new container of towered on tower', async () => {
      const list = await mine(tower.docker);
      return list.length === 1 && list[0]!.Id === towered.containerId && list[0]!.State === 'running';
    }, 15_000);
  });

  it('a host that stops answering (its link cut: no refusal, no reset) is noticed by the ping; its model comes back from the same container when it answers again', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const rack = pool.engine('rack');
    const link = `${POOL.linkPrefix}h${pool.engines.indexOf(rack)}`;
    const bigBefore = await model('big');
    assert.deepEqual([bigBefore.status, bigBefore.engine], ['ready', 'rack']);
    const cutAt = Date.now();
    run('ip', ['link', 'set', link, 'down']);
    try {
      await waitUntil('big to be marked failed', async () => (await model('big')).status === 'failed', 20_000);
      const noticedMs = Date.now() - cutAt;
      assert.match((await model('big')).lastError ?? '', /engine 'rack' became unreachable/);
      const res = await post('small'); // was on rack: now placed on tower
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await model('small')).engine, 'tower');
      t.diagnostic(`rack's link cut: noticed after ${noticedMs} ms (ping every 2 s, 2.5 s timeout); 'small' served on tower ${Date.now() - cutAt} ms after the cut`);
      const refused = await post('big');
      assert.equal(refused.status, 503);
      assert.match(((await refused.json()) as ErrorBody).error.message, /may run only on engine 'rack'/);
    } finally {
      run('ip', ['link', 'set', link, 'up']);
    }
    await waitUntil('rack to be used again', () => sd!.scheduler.engineStates().every((e) => e.unavailable === undefined), 20_000);
    // Its containers ran on: big's is adopted again as it was; small's (now on tower) is removed.
    await waitUntil('big to be adopted back', async () => (await model('big')).status === 'ready', 20_000);
    assert.equal((await model('big')).containerId, bigBefore.containerId, 'the same container, no reload');
    await waitUntil("rack to hold only big's container", async () => (await mine(rack.docker)).map((c) => c.Labels[LABEL_MODEL]).join() === 'big', 20_000);
    assert.equal((await post('big')).status, 200);
  });

  it('shutdown leaves nothing on either engine', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    await sd!.shutdown();
    for (const engine of pool.engines) assert.deepEqual(await mine(engine.docker), [], engine.name);
  });
});
