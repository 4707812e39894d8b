// Fault tests end to end on a real engine: a backend that crashes mid-stream (and a client that
// retries at once), one that exits at start (crash-loop backoff), a container removed by hand, swapdock itself SIGKILLed and started
// again (adoption, and replacement when the config changed), a hot reload during a stream, and a
// model killed for exceeding its `memory` limit while it loads.
// Each test checks what the client got, roughly how fast, and what is left on the engine.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { chatBody, runInstance, useSwapdockOnEngine } from '../support/engine-harness.js';
import { cleanupByLabel } from '../support/engines.js';
import { ServeProcess, backendEnv, byInstance, crashBackend, managedByUs, modelOf, sampleContainers, waitUntil } from '../support/faults.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  crashy: { image: {{IMAGE}}, pull: never, maxConcurrent: 1 }
  retried: { image: {{IMAGE}}, pull: never, maxConcurrent: 1 }
  broken: { image: {{IMAGE}}, pull: never, env: { FAKE_EXIT_ON_START: "4" } }
  victim: { image: {{IMAGE}}, pull: never }
  victim2: { image: {{IMAGE}}, pull: never }
  hungry: { image: {{IMAGE}}, pull: never, memory: 64m, env: { FAKE_ALLOCATE_MB: "256" } }
`;

interface ErrorBody { error: { message: string; type: string; code: string } }

export function faultsOnEngine(engine: 'docker' | 'podman'): void {
  describe(`faults on ${engine}`, () => {
    const fixture = useSwapdockOnEngine(engine, MODELS);

    const post = (model: string, extra?: Record<string, unknown>) => fetch(`${fixture.sd!.url}/v1/chat/completions`, chatBody(model, extra));
    const of = async (model: string) => (await byInstance(fixture.sd!.docker, fixture.sd!.instance)).filter((c) => modelOf(c) === model);
    /** Exactly one container for `model`, running, with this id: nothing dead or duplicate beside it. */
    const onlyContainer = (model: string, id: string) =>
      waitUntil(`'${model}' to have exactly its one running container`, async () => {
        const list = await of(model);
        return list.length === 1 && list[0]!.Id === id && list[0]!.State === 'running';
      }, 5000);

    it('a backend crash mid-stream ends the stream with an error event, fails the queue fast, and restarts on the next request', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await post('crashy')).status, 200);
      const oldId = fixture.sd.scheduler.snapshotOf('crashy')!.containerId!;
      const stream = await post('crashy', { stream: true, fake_chunks: 400, fake_chunk_delay_ms: 25 });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      const queued = post('crashy');
      await waitUntil('a queued request', () => fixture.sd!.scheduler.snapshotOf('crashy')!.queued === 1, 5000, 20);

      const crashedAt = Date.now();
      await crashBackend(fixture.sd.docker, oldId);
      const queuedRes = await queued;
      const queuedMs = Date.now() - crashedAt;
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      const streamMs = Date.now() - crashedAt;

      assert.equal(queuedRes.status, 503);
      const { error } = (await queuedRes.json()) as ErrorBody;
      assert.equal(error.code, 'model_crashed');
      assert.match(error.message, /exited with code 3/);
      assert.ok(Number(queuedRes.headers.get('retry-after')) >= 1);
      const events = text.split('\n\n').filter(Boolean);
      assert.ok(events.length < 401, 'the stream was cut short');
      assert.doesNotMatch(text, /\[DONE\]/);
      const last = JSON.parse(events.at(-1)!.replace(/^data: /, '')) as ErrorBody;
      assert.ok(last.error?.message, `the stream ends with a data: {"error":…} event; got ${events.at(-1)}`);
      assert.ok(queuedMs < 5000 && streamMs < 5000, `noticed fast (queued ${queuedMs} ms, stream ${streamMs} ms)`);
      t.diagnostic(`queued request failed ${queuedMs} ms after the crash; stream ended after ${streamMs} ms`);

      const started = Date.now();
      const again = await post('crashy');
      assert.equal(again.status, 200);
      const newId = fixture.sd.scheduler.snapshotOf('crashy')!.containerId!;
      assert.notEqual(newId, oldId, 'a new container');
      await onlyContainer('crashy', newId);
      t.diagnostic(`restart on the next request took ${Date.now() - started} ms`);
    });

    it('a client that retries at once after a crash mid-stream is served, by a new container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await post('retried')).status, 200);
      const oldId = fixture.sd.scheduler.snapshotOf('retried')!.containerId!;
      const stream = await post('retried', { stream: true, fake_chunks: 400, fake_chunk_delay_ms: 25 });
      const reader = stream.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      await crashBackend(fixture.sd.docker, oldId);
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      assert.match(text, /"error"/, 'the stream in flight ends with an error event');
      // At once: the engine has most likely not reported the death yet.
      const started = Date.now();
      const again = await post('retried');
      const body = await again.text();
      assert.equal(again.status, 200, `the retry is served, not failed with the crash; got ${again.status} ${body}`);
      const newId = fixture.sd.scheduler.snapshotOf('retried')!.containerId!;
      assert.notEqual(newId, oldId, 'a new container');
      await onlyContainer('retried', newId);
      t.diagnostic(`the retry was served ${Date.now() - started} ms after it was sent (a restart included)`);
    });

    it('a backend that exits at start: two fast failures with its log lines, a request during the backoff waits for the next attempt, then 503 crash-loop past queue.maxWait; nothing left', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      for (const attempt of [1, 2]) {
        const started = Date.now();
        const res = await post('broken');
        assert.equal(res.status, 503, `attempt ${attempt}`);
        const { error } = (await res.json()) as ErrorBody;
        assert.equal(error.code, 'container_exited');
        assert.match(error.message, /exited with code 4/);
        assert.match(error.message, /fatal: simulated start failure/, 'the container log lines');
        assert.ok(Date.now() - started < 15_000, 'failed fast, not after startTimeout');
        t.diagnostic(`attempt ${attempt}: 503 container_exited in ${Date.now() - started} ms`);
        assert.equal((await of('broken')).length, 0, 'the failed container was removed');
      }
      // Two failures in a row: the next attempt is 1 s away, well within queue.maxWait (10 minutes).
      const waited = Date.now();
      const third = await post('broken');
      assert.equal(third.status, 503);
      assert.equal(((await third.json()) as ErrorBody).error.code, 'container_exited', 'it waited for the next attempt, which failed');
      t.diagnostic(`a request during the backoff waited ${Date.now() - waited} ms for the next attempt`);
      assert.equal((await of('broken')).length, 0);

      // Three in a row: the next attempt is 2 s away. With a queue.maxWait shorter than that, 503 at once.
      const config = fixture.sd.scheduler.currentConfig;
      fixture.sd.scheduler.reload({ ...config, queue: { ...config.queue, maxWaitMs: 500 } });
      try {
        const fourth = await post('broken');
        assert.equal(fourth.status, 503);
        assert.ok(Number(fourth.headers.get('retry-after')) >= 1, 'Retry-After set');
        const { error } = (await fourth.json()) as ErrorBody;
        assert.equal(error.code, 'model_crash_loop');
        assert.match(error.message, /failed 3 times in a row.*queue\.maxWait 0\.5 s/);
      } finally {
        fixture.sd.scheduler.reload(config);
      }
      assert.equal((await of('broken')).length, 0);
      assert.equal(fixture.sd.scheduler.snapshotOf('broken')!.status, 'failed');
    });

    it('a model over its memory limit at load: a fast 503 naming the OOM kill, with its log lines; nothing left', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const started = Date.now();
      const res = await post('hungry');
      const ms = Date.now() - started;
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as ErrorBody;
      t.diagnostic(`503 ${error.code} in ${ms} ms: ${error.message}`);
      assert.equal(error.code, 'container_exited');
      assert.ok(ms < 20_000, `failed fast (${ms} ms), not after startTimeout`);
      // Docker reports the OOM kill (State.OOMKilled); Podman may report only exit code 137.
      assert.match(error.message, /out of memory/i);
      assert.match(error.message, /OOM|exit 137/);
      assert.match(error.message, /`memory`/, 'names the setting to raise');
      if (engine === 'docker') assert.match(error.message, /OOM, exit code 137/, 'Docker reports OOMKilled');
      assert.match(error.message, /fake-model: loading weights \(256 MB\)/, 'the container log lines');
      assert.doesNotMatch(error.message, /weights loaded/, 'killed while loading');
      await waitUntil("no container left for 'hungry'", async () => (await of('hungry')).length === 0, 5000);
    });

    it('a container removed by hand while idle is replaced: no 502, then a fresh container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      // 'victim': request right after the removal, before swapdock may have seen the engine's event.
      // 'victim2': request after swapdock noticed. (Two models: a second removal of one model within
      // a minute would count as a crash loop, crash-backoff.ts.)
      for (const [model, round] of [['victim', 'immediately'], ['victim2', 'after it was noticed']] as const) {
        assert.equal((await post(model)).status, 200);
        const oldId = fixture.sd.scheduler.snapshotOf(model)!.containerId!;
        await fixture.sd.docker.getContainer(oldId).remove({ force: true });
        if (round !== 'immediately') {
          await waitUntil('the removal to be noticed', () => fixture.sd!.scheduler.snapshotOf(model)!.status !== 'ready', 5000, 20);
        }
        const started = Date.now();
        let res = await post(model);
        const firstStatus = res.status;
        const body = await res.text();
        assert.notEqual(res.status, 502, `no upstream error leaks: ${body}`);
        if (res.status !== 200) {
          // The request hit the dead container before the engine's event: a crash, retryable at once.
          assert.equal(round, 'immediately', `after the removal was noticed the next request must succeed; got ${res.status} ${body}`);
          assert.equal(res.status, 503);
          assert.equal((JSON.parse(body) as ErrorBody).error.code, 'model_crashed');
          assert.match(body, /removed outside swapdock/);
          res = await post(model);
          assert.equal(res.status, 200, 'the request after that succeeds');
        }
        assert.ok(Date.now() - started < 10_000);
        t.diagnostic(`${round}: first request ${firstStatus}, 200 after ${Date.now() - started} ms`);
        const newId = fixture.sd.scheduler.snapshotOf(model)!.containerId!;
        assert.notEqual(newId, oldId);
        await onlyContainer(model, newId);
      }
    });

    it('shutdown removes every container of the run', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      await fixture.sd.shutdown();
      assert.deepEqual(await byInstance(fixture.sd.docker, fixture.sd.instance), []);
      assert.deepEqual(await managedByUs(fixture.sd.docker, fixture.sd.instance), []);
    });

    /** A config file for `swapdock serve` with one model `m`; returns write(env) to change it. */
    const serveConfig = (instance: string) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'swapdock-faults-')), 'models.yaml');
      const write = (env: Record<string, string>) =>
        writeFileSync(file, `instance: ${instance}\nengine: { host: "unix://${fixture.socketPath}" }\nshutdownTimeout: 10s\n` +
          `defaults: { ttl: 0, stopTimeout: 2s }\nmodels:\n  m: { image: ${fixture.image}, pull: never, env: ${JSON.stringify(env)} }\n`);
      return { file, write };
    };

    it('swapdock SIGKILLed: a new serve adopts the container as is; a changed config replaces it; never two', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const instance = runInstance('it-faults-kill');
      const docker = new Docker({ socketPath: fixture.socketPath });
      const { file, write } = serveConfig(instance);
      write({ MARK: 'a' });
      const sampler = sampleContainers(docker, instance);
      const serves: ServeProcess[] = [];
      const serve = () => serves[serves.push(ServeProcess.start(file)) - 1]!;
      const ids = async () => (await byInstance(docker, instance)).map((c) => c.Id);
      try {
        const first = serve();
        assert.equal((await fetch(`${await first.url()}/v1/chat/completions`, chatBody('m'))).status, 200);
        const [oldId] = await ids();
        assert.ok(oldId);
        const startedAt = (await docker.getContainer(oldId).inspect()).State.StartedAt;
        await first.kill9();
        assert.deepEqual(await ids(), [oldId], 'the container outlives a SIGKILLed swapdock');

        const second = serve();
        const url = await second.url();
        const adopted = await second.waitForLine('the adoption line', (l) => /adopted/i.test(l.msg ?? ''), 1000);
        assert.match(adopted.msg!, /'m'/);
        const models = (await (await fetch(`${url}/api/models`)).json()) as { models: { id: string; status: string; containerId?: string }[] };
        assert.deepEqual(models.models.map((m) => [m.id, m.status, m.containerId]), [['m', 'ready', oldId]], 'ready at once, same container');
        const started = Date.now();
        assert.equal((await fetch(`${url}/v1/chat/completions`, chatBody('m'))).status, 200);
        const warmMs = Date.now() - started;
        assert.ok(warmMs < 2000, `served without a reload (${warmMs} ms)`);
        assert.equal(second.lines.filter((l) => /Starting model/.test(l.msg ?? '')).length, 0, 'no start');
        assert.equal((await docker.getContainer(oldId).inspect()).State.StartedAt, startedAt, 'not restarted');
        assert.deepEqual(await ids(), [oldId]);
        t.diagnostic(`adopted container served its first request in ${warmMs} ms`);
        await second.kill9();

        write({ MARK: 'b' });
        const third = serve();
        const url3 = await third.url();
        await third.waitForLine('the removal of the outdated container', (l) => /Removing container .*config of 'm' changed/.test(l.msg ?? ''), 1000);
        assert.deepEqual(await ids(), [], 'the outdated container is removed at start-up, before any request');
        assert.equal((await fetch(`${url3}/v1/chat/completions`, chatBody('m'))).status, 200);
        const [newId, ...extra] = await ids();
        assert.ok(newId && newId !== oldId && extra.length === 0, 'one new container');
        assert.equal((await backendEnv(docker, newId)).MARK, 'b', 'it runs the new config');

        const exited = third.exited;
        third.child.kill('SIGTERM');
        assert.equal(await exited, 0);
        assert.deepEqual(await ids(), [], 'SIGTERM leaves nothing');
        assert.deepEqual(await managedByUs(docker, instance), []);
      } finally {
        const max = await sampler.stop();
        await Promise.all(serves.map((s) => s.kill9()));
        await cleanupByLabel(fixture.socketPath, { 'io.swapdock.instance': instance });
        assert.ok((max.get('m') ?? 0) <= 1, `never two containers for 'm' (saw ${max.get('m')})`);
      }
    });

    it('a config edit during a stream: the stream completes, then the model runs in a new container with the new env', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const instance = runInstance('it-faults-reload');
      const docker = new Docker({ socketPath: fixture.socketPath });
      const { file, write } = serveConfig(instance);
      write({ VERSION: '1' });
      const sampler = sampleContainers(docker, instance);
      const serve = ServeProcess.start(file);
      const ids = async () => (await byInstance(docker, instance)).map((c) => c.Id);
      try {
        const url = await serve.url();
        assert.equal((await fetch(`${url}/v1/chat/completions`, chatBody('m'))).status, 200, 'warm: the stream below must not wait for a start');
        // 80 chunks, 100 ms apart: ~8 s, longer than the reloader's 2 s file poll.
        const stream = await fetch(`${url}/v1/chat/completions`, chatBody('m', { stream: true, fake_chunks: 80, fake_chunk_delay_ms: 100 }));
        assert.equal(stream.status, 200);
        const [oldId] = await ids();
        assert.equal((await backendEnv(docker, oldId!)).VERSION, '1');
        let done = false;
        const body = stream.text().then((text) => ((done = true), text));
        const editedAt = Date.now();
        write({ VERSION: '2' });
        const reloaded = await serve.waitForLine('the reload', (l) => /^Config reloaded/.test(l.msg ?? ''), 10_000);
        assert.deepEqual(reloaded.changed, ['m']);
        assert.equal(done, false, 'the reload happened while the stream ran');
        t.diagnostic(`reload seen ${Date.now() - editedAt} ms after the edit`);
        const text = await body;
        assert.equal(text.split('\n\n').filter(Boolean).length, 81, 'every chunk arrived');
        assert.match(text, /data: \[DONE\]\n\n$/);
        assert.doesNotMatch(text, /"error"/);

        const res = await fetch(`${url}/v1/chat/completions`, chatBody('m'));
        assert.equal(res.status, 200);
        const [newId, ...extra] = await ids();
        assert.ok(newId && newId !== oldId && extra.length === 0, 'exactly one container, a new one');
        assert.equal((await backendEnv(docker, newId)).VERSION, '2');

        const exited = serve.exited;
        serve.child.kill('SIGTERM');
        assert.equal(await exited, 0);
        assert.deepEqual(await ids(), [], 'SIGTERM leaves nothing');
        assert.deepEqual(await managedByUs(docker, instance), []);
      } finally {
        const max = await sampler.stop();
        await serve.kill9();
        await cleanupByLabel(fixture.socketPath, { 'io.swapdock.instance': instance });
        assert.ok((max.get('m') ?? 0) <= 1, `never two containers for 'm' (saw ${max.get('m')})`);
      }
    });
  });
}
