// Sleeping models (models.*.sleep) end to end on a real engine, with real containers of the fake
// model image: a swap puts the evicted model to sleep (its container keeps running), its next
// request wakes the same container; level 2 wakes with the reload sequence; a failed sleep stops
// the container, a failed wake cold-starts a new one; a restarted swapdock adopts a sleeping
// container as sleeping; tabbyAPI's unload/load; /upstream refuses the control endpoints.
// GPU models are needed (sleep requires gpus): on Docker this runs on the GPU test dockerd (fake
// NVIDIA hook), on Podman with the fake CDI devices scripts/engines.sh writes. No GPU list and no
// nvidia-smi: GPU models are exclusive, so every GPU request swaps the one before out.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { chatBody, startOnEngine, useSwapdockOnEngine, type EngineSwapdock } from '../support/engine-harness.js';

const ADMIN_KEY = 'sleep-it-admin-key-0123456789';
const FAST = 'FAKE_SLEEP_DELAY_MS: "20", FAKE_WAKE_DELAY_MS: "100", FAKE_RELOAD_DELAY_MS: "100"';
const VLLM = (level: 1 | 2) =>
  `{ image: {{IMAGE}}, pull: never, gpus: 1, command: [--enable-sleep-mode], env: { ${FAST} }, sleep: { kind: vllm, level: ${level}, memory: 1g, timeout: 10s } }`;

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
engine: { sleepMemory: 16g }
models:
  plain: { image: {{IMAGE}}, pull: never, gpus: 1 }
  level1: ${VLLM(1)}
  level2: ${VLLM(2)}
  fails-sleep: ${VLLM(1)}
  fails-wake: ${VLLM(1)}
  guarded: ${VLLM(1)}
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
  sleeper: ${VLLM(1)}
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
  });
}
