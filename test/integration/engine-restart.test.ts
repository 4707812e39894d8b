// The container engine goes away and comes back, under a running swapdock. Runs on the GPU test
// dockerd (scripts/engines.sh gpu-docker, /run/swapdock-gpu/docker.sock) and on the Podman API
// service (scripts/engines.sh podman, /run/podman/podman.sock), which tests may stop and start;
// never on the main dockerd. The engine is restored in `after`, whatever happens.
// Live-restore is off on the GPU dockerd: stopping it stops its containers. Podman's containers
// live on under conmon while its API service is down.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { chatBody, useSwapdockOnEngine, type EngineFixture } from '../support/engine-harness.js';
import { cleanupByLabel, engineSockets, pingSocket } from '../support/engines.js';
import { byInstance, managedByUs, startGpuDocker, startPodmanService, stopGpuDocker, stopPodmanService, waitUntil } from '../support/faults.js';

// Two CPU models, so (ii) starts from a clean crash record: the failed start of (i) would
// otherwise count toward crash-loop backoff when (ii)'s container dies (crash-backoff.ts).
const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  cpu: { image: {{IMAGE}}, pull: never }
  cpu2: { image: {{IMAGE}}, pull: never }
  quiet: { image: {{IMAGE}}, pull: never }
  asked: { image: {{IMAGE}}, pull: never }
`;

interface ErrorBody { error: { message: string; type: string; code: string } }

describe('the container engine restarts under swapdock (GPU test dockerd)', () => {
  const socketPath = engineSockets.gpuDocker;
  // Whatever happened: the engine must be up again for everyone else, then clean up.
  const fixture = useSwapdockOnEngine('gpuDocker', MODELS, async () => {
    if (!(await pingSocket(socketPath))) await startGpuDocker();
  });

  const post = (model: string) => fetch(`${fixture.sd!.url}/v1/chat/completions`, chatBody(model));
  const restarted = async (what: () => Promise<void>) => {
    try {
      await what();
    } finally {
      await startGpuDocker();
    }
  };

  it('engine stopped while idle: 503 naming the unreachable engine, fast; 200 once it is back, without restarting swapdock', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.deepEqual(await fixture.sd.containers(), []);
    await restarted(async () => {
      const stoppedAt = Date.now();
      await stopGpuDocker();
      t.diagnostic(`dockerd stopped in ${Date.now() - stoppedAt} ms`);
      const started = Date.now();
      const res = await post('cpu');
      const ms = Date.now() - started;
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as ErrorBody;
      assert.doesNotMatch(error.code, /crash/);
      assert.equal(error.code, 'engine_unavailable');
      assert.match(error.message, /Cannot reach the container engine at unix:\/\/\/run\/swapdock-gpu\/docker\.sock/);
      assert.ok(ms < 10_000, `answered in ${ms} ms, no hang`);
      t.diagnostic(`503 ${error.code} in ${ms} ms: ${error.message.slice(0, 160)}…`);
    });
    const started = Date.now();
    const res = await post('cpu');
    assert.equal(res.status, 200, await res.clone().text());
    t.diagnostic(`200 ${Date.now() - started} ms after the engine answered again`);
    const containers = await fixture.sd.containers();
    assert.equal(containers.length, 1);
    assert.equal(containers[0]!.State, 'running');
  });

  it('engine stopped while a model runs: after it is back swapdock notices, and the next request gets 200 on a fresh container', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await post('cpu2')).status, 200);
    const oldId = fixture.sd.scheduler.snapshotOf('cpu2')!.containerId!;
    let duringOutage = '';
    await restarted(async () => {
      await stopGpuDocker();
      // dockerd may report the deaths before its API goes (then swapdock knows already), or not.
      duringOutage = fixture.sd!.scheduler.snapshotOf('cpu2')!.status;
    });
    const backAt = Date.now();
    t.diagnostic(`while the engine was down cpu2 was '${duringOutage}'`);
    const inspectOld = await fixture.sd.docker.getContainer(oldId).inspect().catch(() => undefined);
    t.diagnostic(`after the engine restart the old container is ${inspectOld ? inspectOld.State.Status : 'gone'}`);
    assert.notEqual(inspectOld?.State.Running, true, 'dockerd stopped it (no live-restore)');
    await waitUntil('swapdock to notice the dead container', () => fixture.sd!.scheduler.snapshotOf('cpu2')!.status !== 'ready', 20_000);
    const noticedMs = Date.now() - backAt;
    const snapshot = fixture.sd.scheduler.snapshotOf('cpu2')!;
    t.diagnostic(`noticed ${noticedMs} ms after the engine was back: ${snapshot.status} (${snapshot.lastError})`);

    const started = Date.now();
    const res = await post('cpu2');
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok(Date.now() - started < 10_000);
    const newId = fixture.sd.scheduler.snapshotOf('cpu2')!.containerId!;
    assert.notEqual(newId, oldId, 'a fresh container');
    await waitUntil('only the fresh container of cpu2 to remain', async () => {
      const mine = (await fixture.sd!.containers()).filter((c) => c.Labels['io.swapdock.model'] === 'cpu2');
      return mine.length === 1 && mine[0]!.Id === newId && mine[0]!.State === 'running';
    }, 5000);
    // The cpu model of the first test died with the engine too; it starts again on request.
    assert.equal((await post('cpu')).status, 200);
    assert.equal((await fixture.sd.containers()).filter((c) => c.State === 'running').length, 2);
  });

  it('engine killed (SIGKILL) while models run: 503 meanwhile, and after it is back swapdock reconciles; 200 on fresh containers', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    // 'quiet' gets no request during the outage: only reconnecting can reveal its death.
    // 'asked' gets one: its container still runs (orphaned) but its port is gone.
    const oldIds: Record<string, string> = {};
    for (const model of ['quiet', 'asked']) {
      assert.equal((await post(model)).status, 200);
      oldIds[model] = fixture.sd.scheduler.snapshotOf(model)!.containerId!;
    }
    await restarted(async () => {
      await stopGpuDocker('SIGKILL');
      const started = Date.now();
      const res = await post('asked');
      const ms = Date.now() - started;
      const body = await res.text();
      assert.equal(res.status, 503, body);
      assert.ok(ms < 10_000, `answered in ${ms} ms, no hang`);
      t.diagnostic(`during the outage a request to a ready model got ${res.status} in ${ms} ms: ${body.slice(0, 220)}`);
      assert.equal(fixture.sd!.scheduler.snapshotOf('quiet')!.status, 'ready', 'no event could tell swapdock yet');
      // An unreachable engine is not taken for a removed container.
      assert.doesNotMatch(body, /removed outside swapdock/);
      assert.match(body, /container engine/i);
      assert.equal(fixture.sd!.scheduler.snapshotOf('asked')!.status, 'ready', 'not marked crashed: nothing is known yet');
    });
    const backAt = Date.now();
    await waitUntil("swapdock to notice that 'quiet' died", () => fixture.sd!.scheduler.snapshotOf('quiet')!.status !== 'ready', 20_000);
    const snapshot = fixture.sd.scheduler.snapshotOf('quiet')!;
    t.diagnostic(`'quiet' noticed ${Date.now() - backAt} ms after the engine was back: ${snapshot.status} (${snapshot.lastError})`);

    for (const model of ['quiet', 'asked']) {
      const started = Date.now();
      const res = await post(model);
      assert.equal(res.status, 200, `${model}: ${await res.clone().text()}`);
      assert.ok(Date.now() - started < 10_000);
      const newId = fixture.sd.scheduler.snapshotOf(model)!.containerId!;
      assert.notEqual(newId, oldIds[model], `${model}: a fresh container`);
      await waitUntil(`only the fresh container of ${model} to remain`, async () => {
        const mine = (await fixture.sd!.containers()).filter((c) => c.Labels['io.swapdock.model'] === model);
        return mine.length === 1 && mine[0]!.Id === newId && mine[0]!.State === 'running';
      }, 5000);
    }
  });

  it('shutdown leaves nothing on the engine', (t: TestContext) => shutdownLeavesNothing(t, fixture));
});

const PODMAN_MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  loaded: { image: {{IMAGE}}, pull: never }
  cold: { image: {{IMAGE}}, pull: never }
`;

describe('the Podman API service restarts under swapdock', () => {
  const socketPath = engineSockets.podman;
  // Whatever happened: the service must be up again for everyone else, then clean up.
  const fixture = useSwapdockOnEngine('podman', PODMAN_MODELS, async () => {
    if (!(await pingSocket(socketPath))) await startPodmanService();
  });

  const post = (model: string) => fetch(`${fixture.sd!.url}/v1/chat/completions`, chatBody(model));
  const mine = async (model: string) => (await fixture.sd!.containers()).filter((c) => c.Labels['io.swapdock.model'] === model);

  it('service stopped while a model is loaded: 503 engine_unavailable fast; after a restart 200 without restarting swapdock, one container', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    assert.equal((await post('loaded')).status, 200);
    const oldId = fixture.sd.scheduler.snapshotOf('loaded')!.containerId!;
    try {
      const stoppedAt = Date.now();
      await stopPodmanService();
      t.diagnostic(`podman system service stopped in ${Date.now() - stoppedAt} ms`);

      // A model that must be started cannot be: the engine is named.
      const started = Date.now();
      const res = await post('cold');
      const ms = Date.now() - started;
      const body = await res.text();
      assert.equal(res.status, 503, body);
      const { error } = JSON.parse(body) as ErrorBody;
      assert.equal(error.code, 'engine_unavailable');
      assert.doesNotMatch(error.code, /crash/);
      assert.match(error.message, /Cannot reach the container engine at unix:\/\/\/run\/podman\/podman\.sock/);
      assert.ok(ms < 10_000, `answered in ${ms} ms, no hang`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After set');
      t.diagnostic(`cold model: 503 ${error.code} in ${ms} ms`);

      // The loaded model's container runs on under conmon: served, or at worst a 503 naming the engine.
      const warmStarted = Date.now();
      const warm = await post('loaded');
      const warmBody = await warm.text();
      const warmMs = Date.now() - warmStarted;
      t.diagnostic(`loaded model during the outage: ${warm.status} in ${warmMs} ms ${warm.status === 200 ? '' : warmBody.slice(0, 200)}`);
      assert.ok(warmMs < 10_000, `answered in ${warmMs} ms, no hang`);
      if (warm.status !== 200) {
        assert.equal(warm.status, 503, warmBody);
        assert.match(warmBody, /container engine/i);
        assert.doesNotMatch(warmBody, /removed outside swapdock/);
      }
    } finally {
      await startPodmanService();
    }
    const backAt = Date.now();
    const res = await post('loaded');
    assert.equal(res.status, 200, await res.clone().text());
    t.diagnostic(`200 ${Date.now() - backAt} ms after the service answered again`);
    const newId = fixture.sd.scheduler.snapshotOf('loaded')!.containerId!;
    t.diagnostic(newId === oldId ? 'the container survived the service restart and was kept' : 'served by a fresh container');
    await waitUntil("exactly one running container for 'loaded'", async () => {
      const list = await mine('loaded');
      return list.length === 1 && list[0]!.Id === newId && list[0]!.State === 'running';
    }, 10_000);

    // And a start works again, with the event stream back.
    assert.equal((await post('cold')).status, 200);
    assert.equal((await mine('cold')).length, 1);
  });

  it('shutdown leaves nothing on the engine', (t: TestContext) => shutdownLeavesNothing(t, fixture));
});

async function shutdownLeavesNothing(t: TestContext, fixture: EngineFixture): Promise<void> {
  const sd = fixture.sd;
  if (!sd) return t.skip('engine not available');
  await sd.shutdown();
  assert.deepEqual(await byInstance(sd.docker, sd.instance), []);
  assert.deepEqual(await managedByUs(sd.docker, sd.instance), []);
  assert.equal(await cleanupByLabel(fixture.socketPath, { 'io.swapdock.instance': sd.instance }), 0);
}
