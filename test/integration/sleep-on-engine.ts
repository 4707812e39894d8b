// Sleeping models (models.*.sleep) end to end on a real engine, with real containers of the fake
// model image: a swap puts the evicted model to sleep (its container keeps running), its next
// request wakes the same container; level 2 wakes with the reload sequence; a failed sleep stops
// the container, a sleep that hangs past sleep.timeout too, a failed wake cold-starts a new one;
// the idle ladder (ttl, then sleep.ttl); engine.sleepMemory stops the oldest sleeper for room, and
// a model larger than it instead of putting it to sleep; one wake serves every waiting request;
// the http kind; POST /api/models/{id}/sleep and /load; a restarted swapdock adopts a sleeping
// container as sleeping; tabbyAPI's unload/load; /upstream refuses the control endpoints.
// GPU models are needed (sleep requires gpus): on Docker this runs on the GPU test dockerd (fake
// NVIDIA hook), on Podman with the fake CDI devices scripts/engines.sh writes. No GPU list and no
// nvidia-smi: GPU models are exclusive, so every GPU request swaps the one before out.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { waitFor } from '../support/app-harness.js';
import { chatBody, startOnEngine, useSwapdockOnEngine, type EngineSwapdock } from '../support/engine-harness.js';

const ADMIN_KEY = 'sleep-it-admin-key-0123456789';
/** The fake model's sleep, wake and reload delays, short. */
const fast = (wakeMs = 100) => `FAKE_SLEEP_DELAY_MS: "20", FAKE_WAKE_DELAY_MS: "${wakeMs}", FAKE_RELOAD_DELAY_MS: "100"`;
const FAST = fast();
interface VllmOptions {
  level?: 1 | 2;
  /** sleep.memory */
  memory?: string;
  /** sleep.timeout */
  timeout?: string;
  /** sleep.ttl */
  sleepTtl?: string;
  /** The model's own ttl. */
  ttl?: string;
  /** The fake's wake delay (FAKE_WAKE_DELAY_MS). */
  wakeMs?: number;
}
const VLLM = ({ level = 1, memory = '1g', timeout = '10s', sleepTtl, ttl, wakeMs = 100 }: VllmOptions = {}) =>
  `{ image: {{IMAGE}}, pull: never, gpus: 1,${ttl ? ` ttl: ${ttl},` : ''} command: [--enable-sleep-mode], ` +
  `env: { ${fast(wakeMs)} }, ` +
  `sleep: { kind: vllm, level: ${level}, memory: ${memory}, timeout: ${timeout}${sleepTtl ? `, ttl: ${sleepTtl}` : ''} } }`;

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
engine: { sleepMemory: 16g }
models:
  plain: { image: {{IMAGE}}, pull: never, gpus: 1 }
  level1: ${VLLM()}
  level2: ${VLLM({ level: 2 })}
  fails-sleep: ${VLLM()}
  fails-wake: ${VLLM()}
  guarded: ${VLLM()}
  ladder: ${VLLM({ ttl: '2s', sleepTtl: '3s' })}
  crowd: ${VLLM({ wakeMs: 1000 })}
  hangs: ${VLLM({ timeout: '2s' })}
  manual: ${VLLM()}
  generic:
    image: {{IMAGE}}
    pull: never
    gpus: 1
    env: { FAKE_HTTP_SLEEP: "1", ${FAST} }
    sleep: { kind: http, sleepRequest: "POST /fake/sleep", wakeRequest: "POST /fake/wake", statusRequest: "GET /fake/asleep", timeout: 10s }
  tabby:
    image: {{IMAGE}}
    pull: never
    gpus: 1
    env: { FAKE_TABBY: "1", FAKE_ADMIN_KEY: "${ADMIN_KEY}", FAKE_LOAD_MODULES: "2", ${FAST} }
    sleep: { kind: tabbyapi, adminKey: "${ADMIN_KEY}", load: { model_name: fake }, timeout: 10s }
`;

/** A swapdock of its own for the adoption test (it is killed and replaced). */
const ADOPTION_MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
engine: { sleepMemory: 16g }
models:
  sleeper: ${VLLM()}
`;

/** A swapdock of its own for engine.sleepMemory: room for one 2g sleeper, none for a 4g one. */
const BUDGET_MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
engine: { sleepMemory: 3g }
models:
  a: ${VLLM({ memory: '2g' })}
  b: ${VLLM({ memory: '2g' })}
  c: { image: {{IMAGE}}, pull: never, gpus: 1 }
  big: ${VLLM({ memory: '4g' })}
`;

interface ControlCall { method: string; path: string; query: string; body?: unknown }
interface ApiModels { models: { id: string; status: string; containerId?: string; sleep: unknown }[] }
interface V1Models { data: { id: string; state: string }[] }

export function sleepOnEngine(engine: 'gpuDocker' | 'podman'): void {
  const name = engine === 'gpuDocker' ? 'docker (GPU test dockerd)' : 'podman (CDI GPUs)';
  describe(`sleeping models on ${name}`, () => {
    const fixture = useSwapdockOnEngine(engine, MODELS);

    const ask = async (model: string, sd: EngineSwapdock = fixture.sd!) => {
      const res = await fetch(`${sd.url}/v1/chat/completions`, chatBody(model));
      return { status: res.status, text: await res.text() };
    };
    const statusOf = (model: string, sd: EngineSwapdock = fixture.sd!) => sd.scheduler.snapshotOf(model)!.status;
    const containerIdOf = (model: string, sd: EngineSwapdock = fixture.sd!) => sd.scheduler.snapshotOf(model)!.containerId!;
    const containersOf = async (model: string, sd: EngineSwapdock = fixture.sd!) => (await sd.containers()).filter((c) => c.Labels['io.swapdock.model'] === model);
    /** The model's state as /api/models and /v1/models show it. */
    const shownStates = async (model: string, sd: EngineSwapdock = fixture.sd!) => {
      const api = (await (await fetch(`${sd.url}/api/models`)).json()) as ApiModels;
      const v1 = (await (await fetch(`${sd.url}/v1/models`)).json()) as V1Models;
      return { api: api.models.find((m) => m.id === model)?.status, v1: v1.data.find((m) => m.id === model)?.state };
    };
    /** The engine's view of a container: running, and the fake model's own records through its published port. */
    const backend = async (containerId: string, sd: EngineSwapdock = fixture.sd!) => {
      const inspect = await sd.docker.getContainer(containerId).inspect();
      const port = inspect.NetworkSettings.Ports['8000/tcp']![0]!.HostPort;
      const base = `http://127.0.0.1:${port}`;
      return {
        base,
        running: inspect.State.Running,
        calls: async () => ((await (await fetch(`${base}/fake/control-calls`)).json()) as ControlCall[]).map((c) => `${c.method} ${c.path}${c.query ? `?${c.query}` : ''}`),
        rawCalls: async () => (await (await fetch(`${base}/fake/control-calls`)).json()) as ControlCall[],
        whileAsleep: async () => ((await (await fetch(`${base}/fake/requests`)).json()) as { whileAsleep: number }).whileAsleep,
        post: (path: string) => fetch(`${base}${path}`, { method: 'POST' }).then((r) => assert.equal(r.status, 200, path)),
      };
    };
    /** The container is still there, running, with the same id (inspected through the engine). */
    const stillRunning = async (model: string, id: string, sd: EngineSwapdock = fixture.sd!) => {
      const list = await containersOf(model, sd);
      assert.deepEqual(list.map((c) => [c.Id, c.State]), [[id, 'running']], `'${model}' keeps exactly its one running container`);
      assert.equal((await sd.docker.getContainer(id).inspect()).State.Running, true);
    };
    /** The container is gone from the engine: no container of the model, and the id answers 404. */
    const removed = async (model: string, id: string, sd: EngineSwapdock = fixture.sd!) => {
      assert.deepEqual(await containersOf(model, sd), [], `'${model}' has no container left`);
      await assert.rejects(sd.docker.getContainer(id).inspect(), (err: { statusCode?: number }) => err.statusCode === 404, `container of '${model}' removed`);
    };
    /** Waits (polling, with a deadline) until the model has this status in the scheduler. */
    const statusBecomes = (model: string, status: string, timeoutMs: number, sd: EngineSwapdock = fixture.sd!) =>
      waitFor(() => statusOf(model, sd) === status, timeoutMs, `'${model}' ${status} (it is ${statusOf(model, sd)})`);

    it('a swap puts the evicted vLLM model to sleep (same container, still running); its next request wakes it', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('level1')).status, 200);
      const id = containerIdOf('level1');
      const level1 = await backend(id);
      const env = (await (await fetch(`${level1.base}/fake/env`)).json()) as Record<string, string>;
      assert.equal(env.VLLM_SERVER_DEV_MODE, '1', 'swapdock sets VLLM_SERVER_DEV_MODE for kind vllm');

      const swapped = await ask('plain');
      assert.equal(swapped.status, 200, swapped.text);
      assert.equal(statusOf('level1'), 'sleeping');
      assert.deepEqual(await shownStates('level1'), { api: 'sleeping', v1: 'sleeping' });
      await stillRunning('level1', id);
      assert.equal(containerIdOf('level1'), id);
      assert.deepEqual(await level1.calls(), ['POST /sleep?level=1']);

      const woken = await ask('level1');
      assert.equal(woken.status, 200, woken.text);
      assert.equal(statusOf('level1'), 'ready');
      assert.deepEqual(await shownStates('level1'), { api: 'ready', v1: 'ready' });
      assert.equal(containerIdOf('level1'), id, 'woken, not started again');
      await stillRunning('level1', id);
      assert.deepEqual(await level1.calls(), ['POST /sleep?level=1', 'POST /wake_up']);
      assert.equal(await level1.whileAsleep(), 0, 'no request reached it asleep');
      assert.equal(statusOf('plain'), 'stopped', 'plain cannot sleep: it was stopped');
      assert.equal((await containersOf('plain')).length, 0);
    });

    it('level 2: the wake reloads the weights, so answers are real', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('level2')).status, 200);
      const id = containerIdOf('level2');
      const level2 = await backend(id);
      assert.equal((await ask('plain')).status, 200);
      assert.equal(statusOf('level2'), 'sleeping');
      await stillRunning('level2', id);

      const woken = await ask('level2');
      assert.equal(woken.status, 200, woken.text);
      assert.doesNotMatch(woken.text, /garbage weights/);
      assert.equal(containerIdOf('level2'), id);
      assert.deepEqual(await level2.calls(), [
        'POST /sleep?level=2',
        'POST /wake_up?tags=weights',
        'POST /collective_rpc',
        'POST /wake_up?tags=kv_cache',
        'POST /reset_prefix_cache',
      ]);
      const rpc = (await level2.rawCalls()).find((c) => c.path === '/collective_rpc');
      assert.deepEqual(rpc?.body, { method: 'reload_weights' });
      assert.equal(await level2.whileAsleep(), 0);
    });

    it('a sleep that fails stops and removes the container instead', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('fails-sleep')).status, 200);
      const id = containerIdOf('fails-sleep');
      await (await backend(id)).post('/fake/fail-next-sleep');
      const swapped = await ask('plain');
      assert.equal(swapped.status, 200, swapped.text);
      assert.equal(statusOf('fails-sleep'), 'stopped');
      assert.deepEqual(await shownStates('fails-sleep'), { api: 'stopped', v1: 'stopped' });
      assert.deepEqual(await containersOf('fails-sleep'), [], 'its container is stopped and removed');
      await assert.rejects(fixture.sd.docker.getContainer(id).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
    });

    it('a wake that fails: the request is still served, by a cold-started new container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('fails-wake')).status, 200);
      const oldId = containerIdOf('fails-wake');
      const old = await backend(oldId);
      assert.equal((await ask('plain')).status, 200);
      assert.equal(statusOf('fails-wake'), 'sleeping');
      await old.post('/fake/fail-next-wake');

      const served = await ask('fails-wake');
      assert.equal(served.status, 200, served.text);
      assert.equal(statusOf('fails-wake'), 'ready');
      const newId = containerIdOf('fails-wake');
      assert.notEqual(newId, oldId, 'a new container');
      await stillRunning('fails-wake', newId);
      await assert.rejects(fixture.sd.docker.getContainer(oldId).inspect(), (err: { statusCode?: number }) => err.statusCode === 404, 'the container that failed to wake is removed');
      const fresh = await backend(newId);
      assert.deepEqual(await fresh.calls(), [], 'cold-started: no wake on the new container');
    });

    it('tabbyapi: a swap unloads the model with the admin key; its next request loads it again in the same container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('tabby')).status, 200);
      const id = containerIdOf('tabby');
      const tabby = await backend(id);
      assert.equal((await ask('plain')).status, 200);
      assert.equal(statusOf('tabby'), 'sleeping');
      assert.deepEqual(await shownStates('tabby'), { api: 'sleeping', v1: 'sleeping' });
      await stillRunning('tabby', id);
      const loaded = await fetch(`${tabby.base}/v1/model`);
      assert.equal(loaded.status, 400, 'asleep: tabby has no model loaded');
      await loaded.body?.cancel();

      const woken = await ask('tabby');
      assert.equal(woken.status, 200, woken.text);
      assert.equal(containerIdOf('tabby'), id);
      await stillRunning('tabby', id);
      const calls = await tabby.rawCalls();
      assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), ['POST /v1/model/unload', 'POST /v1/model/load']);
      assert.deepEqual(calls[1]!.body, { model_name: 'fake' });
      assert.equal(((await (await fetch(`${tabby.base}/v1/model`)).json()) as { id: string }).id, 'fake');
      assert.equal(await tabby.whileAsleep(), 0);
      const api = await (await fetch(`${fixture.sd.url}/api/models`)).text();
      assert.ok(!api.includes(ADMIN_KEY), '/api/models never shows the admin key');
    });

    it('/upstream/{model}/sleep and /wake_up are refused (403 control_endpoint) and never reach the container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('guarded')).status, 200);
      const id = containerIdOf('guarded');
      for (const path of ['/upstream/guarded/sleep?level=1', '/upstream/guarded/wake_up']) {
        const res = await fetch(`${fixture.sd.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(res.status, 403, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'control_endpoint', path);
      }
      assert.equal(statusOf('guarded'), 'ready');
      assert.deepEqual(await (await backend(id)).calls(), [], 'no control call reached the container');
      const health = await fetch(`${fixture.sd.url}/upstream/guarded/health`);
      assert.equal(health.status, 200, 'other upstream paths still pass');
      await health.body?.cancel();
    });

    it('idle ladder: after ttl the model goes to sleep (same container, still running), after sleep.ttl asleep it is stopped and removed', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const answer = await ask('ladder');
      assert.equal(answer.status, 200, answer.text);
      const answeredAt = Date.now();
      assert.equal(statusOf('ladder'), 'ready', 'not idle for ttl yet');
      const id = containerIdOf('ladder');
      const ladder = await backend(id);

      await statusBecomes('ladder', 'sleeping', 10_000);
      const asleepAt = Date.now();
      assert.ok(asleepAt - answeredAt >= 1500, `asleep only after ttl (2 s): after ${asleepAt - answeredAt} ms`);
      await waitFor(async () => ((await (await fetch(`${ladder.base}/is_sleeping`)).json()) as { is_sleeping: boolean }).is_sleeping, 5000, 'the server itself asleep');
      await stillRunning('ladder', id);
      assert.equal(containerIdOf('ladder'), id);
      assert.deepEqual(await shownStates('ladder'), { api: 'sleeping', v1: 'sleeping' });
      assert.deepEqual(await ladder.calls(), ['POST /sleep?level=1']);

      await statusBecomes('ladder', 'stopped', 12_000);
      assert.ok(Date.now() - asleepAt >= 2500, `stopped only after sleep.ttl (3 s) asleep: after ${Date.now() - asleepAt} ms`);
      assert.deepEqual(await shownStates('ladder'), { api: 'stopped', v1: 'stopped' });
      await removed('ladder', id);
    });

    it('one wake for many: 4 concurrent requests to a sleeping model are all served after a single /wake_up', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('crowd')).status, 200);
      const id = containerIdOf('crowd');
      const crowd = await backend(id);
      assert.equal((await ask('plain')).status, 200);
      assert.equal(statusOf('crowd'), 'sleeping');
      await stillRunning('crowd', id);

      const answers = Promise.all([1, 2, 3, 4].map(() => ask('crowd')));
      // All four wait together (the fake takes 1 s to wake), whether or not the wake has begun.
      await waitFor(() => fixture.sd!.scheduler.snapshotOf('crowd')!.queued === 4, 5000, 'four requests queued for crowd');
      assert.ok(['sleeping', 'starting'].includes(statusOf('crowd')), `not awake yet: ${statusOf('crowd')}`);
      const served = await answers;
      assert.deepEqual(served.map((r) => r.status), [200, 200, 200, 200], served.map((r) => r.text).join('\n'));
      assert.equal(containerIdOf('crowd'), id, 'woken, not started again');
      await stillRunning('crowd', id);
      assert.deepEqual(await crowd.calls(), ['POST /sleep?level=1', 'POST /wake_up'], 'exactly one wake');
      assert.equal(await crowd.whileAsleep(), 0, 'no request reached it asleep');
    });

    it('http kind: a swap calls its sleepRequest (same container, still running); its next request calls wakeRequest', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await ask('generic')).status, 200);
      const id = containerIdOf('generic');
      const generic = await backend(id);
      const asleep = async () => ((await (await fetch(`${generic.base}/fake/asleep`)).json()) as { asleep: boolean }).asleep;

      const swapped = await ask('plain');
      assert.equal(swapped.status, 200, swapped.text);
      assert.equal(statusOf('generic'), 'sleeping');
      assert.deepEqual(await shownStates('generic'), { api: 'sleeping', v1: 'sleeping' });
      await stillRunning('generic', id);
      assert.equal(await asleep(), true, 'the server says it is asleep');
      assert.deepEqual(await generic.calls(), ['POST /fake/sleep']);

      const woken = await ask('generic');
      assert.equal(woken.status, 200, woken.text);
      assert.equal(statusOf('generic'), 'ready');
      assert.equal(containerIdOf('generic'), id, 'woken, not started again');
      await stillRunning('generic', id);
      assert.equal(await asleep(), false);
      assert.deepEqual(await generic.calls(), ['POST /fake/sleep', 'POST /fake/wake']);
      assert.equal(await generic.whileAsleep(), 0);
    });

    it('a sleep that hangs past sleep.timeout has failed: the container is stopped and removed, the other model served', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const sd = fixture.sd;
      assert.equal((await ask('hangs')).status, 200);
      const id = containerIdOf('hangs');
      await (await backend(id)).post('/fake/hang-next-sleep');
      const progress: string[] = [];
      const onLoad = (e: { model: string; phase: string; message: string }) => e.model === 'hangs' && progress.push(`${e.phase}: ${e.message}`);
      sd.scheduler.events.on('load', onLoad);
      try {
        const started = Date.now();
        const swapped = await ask('plain');
        assert.equal(swapped.status, 200, swapped.text);
        assert.ok(Date.now() - started >= 1500, `the swap waited for sleep.timeout (2 s): ${Date.now() - started} ms`);
      } finally {
        sd.scheduler.events.off('load', onLoad);
      }
      assert.equal(statusOf('plain'), 'ready');
      assert.equal(statusOf('hangs'), 'stopped');
      assert.deepEqual(await shownStates('hangs'), { api: 'stopped', v1: 'stopped' });
      await removed('hangs', id);
      assert.ok(progress.some((p) => /^sleep: sleep failed: .*(timed out|timeout).*stopping the container$/i.test(p)), progress.join('\n'));
    });

    it('POST /api/models/{id}/sleep puts it to sleep (same container), POST /api/models/{id}/load wakes it; a model without sleep gets 409', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const sd = fixture.sd;
      assert.equal((await ask('manual')).status, 200);
      const id = containerIdOf('manual');
      const manual = await backend(id);

      const slept = await fetch(`${sd.url}/api/models/manual/sleep`, { method: 'POST' });
      assert.equal(slept.status, 200, await slept.clone().text());
      assert.equal(((await slept.json()) as { status: string }).status, 'sleeping');
      assert.equal(statusOf('manual'), 'sleeping');
      await stillRunning('manual', id);
      assert.deepEqual(await manual.calls(), ['POST /sleep?level=1']);

      const loaded = await fetch(`${sd.url}/api/models/manual/load`, { method: 'POST' });
      assert.equal(loaded.status, 200, await loaded.clone().text());
      assert.equal(((await loaded.json()) as { status: string }).status, 'ready');
      assert.equal(containerIdOf('manual'), id, 'woken, not started again');
      await stillRunning('manual', id);
      assert.deepEqual(await manual.calls(), ['POST /sleep?level=1', 'POST /wake_up']);
      assert.equal((await ask('manual')).status, 200);
      assert.equal(await manual.whileAsleep(), 0);

      const before = statusOf('plain');
      const refused = await fetch(`${sd.url}/api/models/plain/sleep`, { method: 'POST' });
      assert.equal(refused.status, 409);
      const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'model_cannot_sleep');
      assert.match(error.message, /no sleep mode configured.*models\.plain\.sleep/);
      assert.equal(statusOf('plain'), before, 'nothing changed for plain');
    });

    it('a swapdock killed and restarted adopts a sleeping container as sleeping; a request wakes it', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const first = await startOnEngine(fixture.socketPath, fixture.image, ADOPTION_MODELS);
      let second: EngineSwapdock | undefined;
      try {
        assert.equal((await ask('sleeper', first)).status, 200);
        const id = containerIdOf('sleeper', first);
        const slept = await fetch(`${first.url}/api/models/sleeper/sleep`, { method: 'POST' });
        assert.equal(slept.status, 200, await slept.clone().text());
        assert.equal(((await slept.json()) as { status: string }).status, 'sleeping');
        // Simulate SIGKILL: the server goes away without stopping its containers.
        first.server.closeAllConnections();
        await new Promise((r) => first.server.close(r));

        second = await startOnEngine(fixture.socketPath, fixture.image, ADOPTION_MODELS, first.instance);
        assert.equal(statusOf('sleeper', second), 'sleeping', 'adopted as sleeping');
        assert.equal(containerIdOf('sleeper', second), id);
        assert.deepEqual(await shownStates('sleeper', second), { api: 'sleeping', v1: 'sleeping' });
        await stillRunning('sleeper', id, second);
        const sleeper = await backend(id, second);

        const woken = await ask('sleeper', second);
        assert.equal(woken.status, 200, woken.text);
        assert.equal(statusOf('sleeper', second), 'ready');
        assert.equal(containerIdOf('sleeper', second), id, 'woken, no new container');
        await stillRunning('sleeper', id, second);
        assert.deepEqual(await sleeper.calls(), ['POST /sleep?level=1', 'POST /wake_up']);
        assert.equal(await sleeper.whileAsleep(), 0);
      } finally {
        await second?.shutdown();
        await first.cleanup();
      }
    });

    it('engine.sleepMemory: the oldest sleeper is stopped and removed to make room; a model larger than it is stopped instead of put to sleep', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const sd = await startOnEngine(fixture.socketPath, fixture.image, BUDGET_MODELS);
      const changes: string[] = [];
      sd.scheduler.events.on('model', (e) => changes.push(`${e.model}: ${e.from} -> ${e.to}${e.to === 'stopping' ? ` (${e.reason})` : ''}`));
      const changesOf = (model: string) => changes.filter((c) => c.startsWith(`${model}: `));
      try {
        assert.equal((await ask('a', sd)).status, 200);
        const a = containerIdOf('a', sd);
        assert.equal((await ask('b', sd)).status, 200);
        const b = containerIdOf('b', sd);
        assert.equal(statusOf('a', sd), 'sleeping', 'a asleep: 2g of 3g');
        await stillRunning('a', a, sd);

        // b must sleep too, and 2g + 2g > 3g: a, asleep longer, is stopped for room.
        const served = await ask('c', sd);
        assert.equal(served.status, 200, served.text);
        assert.equal(statusOf('b', sd), 'sleeping');
        await stillRunning('b', b, sd);
        assert.deepEqual(await (await backend(b, sd)).calls(), ['POST /sleep?level=1']);
        assert.equal(statusOf('a', sd), 'stopped');
        await removed('a', a, sd);
        assert.deepEqual(changesOf('a').slice(-3), [
          'a: ready -> sleeping',
          "a: sleeping -> stopping (making room in engine.sleepMemory for 'b')",
          'a: stopping -> stopped',
        ]);

        // big (sleep.memory 4g) can never sleep in 3g: evicted, it is stopped.
        assert.equal((await ask('big', sd)).status, 200);
        const big = containerIdOf('big', sd);
        assert.equal(statusOf('c', sd), 'stopped', 'c cannot sleep');
        const back = await ask('c', sd);
        assert.equal(back.status, 200, back.text);
        assert.equal(statusOf('big', sd), 'stopped', 'stopped instead of put to sleep');
        await removed('big', big, sd);
        assert.deepEqual(changesOf('big').slice(-2).map((c) => c.replace(/ \(.*/, '')), ['big: ready -> stopping', 'big: stopping -> stopped'], changesOf('big').join('\n'));
        assert.ok(!changesOf('big').some((c) => c.includes('sleeping')), `big never slept: ${changesOf('big').join('; ')}`);
        assert.equal(statusOf('b', sd), 'sleeping', 'b keeps its place in the budget');
        await stillRunning('b', b, sd);
        assert.deepEqual(await shownStates('b', sd), { api: 'sleeping', v1: 'sleeping' });
      } finally {
        await sd.cleanup();
      }
    });
  });
}
