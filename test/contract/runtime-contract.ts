// One behavioural contract for every ContainerRuntime: the fake, DockerRuntime on Docker and
// DockerRuntime on Podman all run it. Assertions are on observable state (inspect, list, logs,
// HTTP), never on engine internals; timings get only generous sanity bounds.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { request } from 'undici';
import type {
  ContainerEvent, ContainerInfo, ContainerRuntime, ContainerSpec, EventSubscription,
} from '../../src/runtime/container-runtime.js';
import {
  ContainerConflictError, ContainerExitedError, ImageUnavailableError, ReadinessTimeoutError,
} from '../../src/runtime/runtime-errors.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { LABEL_SPEC_HASH } from '../../src/runtime/labels.js';
import { waitForReady } from '../../src/runtime/wait-for-ready.js';
import { retryUntil } from '../../src/util/retry-until.js';
import { cleanupByLabel, requireEngine } from '../support/engines.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';
import { followLogsCases } from './follow-logs-contract.js';

export interface RuntimeUnderTest {
  runtime: ContainerRuntime;
  /** A fake-model image present on this runtime. */
  image: string;
  /** Per-run labels put on every container the suite creates (cleanup selects by them). */
  labels: Record<string, string>;
  cleanup: () => Promise<void>;
  /** Force-removes a container behind the runtime's back (`docker rm -f`); default: runtime.remove. */
  removeByHand?: (id: string) => Promise<void>;
}

const CASE_LABEL = 'io.swapdock.contract-case';

const STARTED_LABEL = 'io.swapdock.test-started';

/**
 * Per-run test labels, and removal of what killed earlier runs of the same suite left behind.
 * Only containers older than `maxAgeMs` go: engines are shared, and a concurrent run of the
 * same suite (another session, CI) must not lose its containers mid-test.
 */
export async function testRunLabels(runtime: ContainerRuntime, suite: string, maxAgeMs = 15 * 60_000): Promise<Record<string, string>> {
  const suiteLabel = { 'io.swapdock.test': suite };
  const stale = (await runtime.list(suiteLabel)).filter((c) => !(Number(c.labels[STARTED_LABEL]) > Date.now() - maxAgeMs));
  await Promise.all(stale.map((c) => runtime.remove(c.id)));
  return { ...suiteLabel, 'io.swapdock.test-run': randomBytes(4).toString('hex'), [STARTED_LABEL]: String(Date.now()) };
}

/** DockerRuntime on a real engine with the fake-model image; the run's containers are removed after. */
export async function engineRuntimeUnderTest(engine: 'docker' | 'podman', t: TestContext): Promise<RuntimeUnderTest | null> {
  const found = await requireEngine(engine, t);
  if (!found) return null;
  const { socketPath } = found;
  const runtime = new DockerRuntime({ host: `unix://${socketPath}` });
  const labels = await testRunLabels(runtime, `runtime-contract-${engine}`);
  return {
    runtime,
    image: await ensureFakeModelImage({ socketPath }),
    labels,
    cleanup: async () => void (await cleanupByLabel(socketPath, labels)),
    removeByHand: async (id) => void (await new Docker({ socketPath }).getContainer(id).remove({ force: true, v: true })),
  };
}

/**
 * start() of a container that may exit at once: it returns the container running with its
 * endpoint, or throws ContainerExitedError (the exit beat start's own inspect). Never both missing.
 */
export async function startedOrExited(
  runtime: ContainerRuntime,
  spec: ContainerSpec,
): Promise<{ id: string; info?: ContainerInfo; exited?: ContainerExitedError }> {
  const { id } = await runtime.create(spec);
  try {
    return { id, info: await runtime.start(id) };
  } catch (err) {
    assert.ok(err instanceof ContainerExitedError, `start() threw ${String(err)}`);
    return { id, exited: err };
  }
}

/** `makeRuntime` may return null to skip (it gets the suite's TestContext, e.g. for requireEngine). */
export function runtimeContract(
  name: string,
  makeRuntime: (t: TestContext) => Promise<RuntimeUnderTest | null>,
): void {
  test(name, { timeout: 300_000 }, async (suite) => {
    const setup = await makeRuntime(suite);
    if (!setup) return;
    const { runtime, image } = setup;
    const run = randomBytes(3).toString('hex');
    let n = 0;
    const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => {
      const id = `${run}-${++n}`;
      return {
        name: `swapdock-contract-${id}`,
        image,
        pull: 'never',
        env: {},
        volumes: [],
        port: 8000,
        stopTimeoutMs: 2_000,
        ...over,
        labels: { ...setup.labels, [LABEL_SPEC_HASH]: 'hash-1', [CASE_LABEL]: id, ...over.labels },
      };
    };
    const state = async (id: string) => (await runtime.inspect(id))?.state;
    const until = <T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000) => retryUntil(fn, { timeoutMs, maxIntervalMs: 100 });
    const ready = (info: ContainerInfo, timeoutMs = 15_000) => {
      assert.ok(info.endpoint, `running container ${info.id} has an endpoint`);
      return waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint, healthPath: '/health', timeoutMs });
    };
    const started = async (over: Partial<ContainerSpec> = {}) => runtime.start((await runtime.create(spec(over))).id);
    const ms = (t0: number) => Math.round(performance.now() - t0);
    const subscriptions: EventSubscription[] = [];
    /** Records the events of containers carrying `labels`; `next` waits for the next one matching. */
    const watchEvents = (labels: Record<string, string>) => {
      const events: (ContainerEvent & { receivedAt: number })[] = [];
      const waiters = new Set<() => void>();
      const sub = runtime.watch(labels, {
        onEvent: (e) => {
          events.push({ ...e, receivedAt: performance.now() });
          waiters.forEach((w) => w());
        },
      });
      subscriptions.push(sub);
      let seen = 0;
      const next = (pred: (e: ContainerEvent) => boolean, timeoutMs = 5_000) =>
        new Promise<ContainerEvent & { receivedAt: number }>((resolve, reject) => {
          const check = () => {
            for (; seen < events.length; seen++) {
              const e = events[seen]!;
              if (pred(e)) {
                seen++;
                finish();
                return resolve(e);
              }
            }
          };
          const timer = setTimeout(() => {
            finish();
            reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
          }, timeoutMs);
          const finish = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      return { events, sub, next };
    };
    const crash = async (info: ContainerInfo) => {
      const res = await request(`http://${info.endpoint!.host}:${info.endpoint!.port}/fake/crash`, { method: 'POST' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      return performance.now();
    };

    try {
      await suite.test('create + start: running, with an endpoint whose /health answers 200', async (t) => {
        let t0 = performance.now();
        const created = await runtime.create(spec());
        const createMs = ms(t0);
        assert.equal(created.state, 'created');
        t0 = performance.now();
        const info = await runtime.start(created.id);
        const startMs = ms(t0);
        assert.equal(info.id, created.id);
        assert.equal(info.state, 'running');
        t0 = performance.now();
        await ready(info);
        const readyMs = ms(t0);
        const res = await request(`http://${info.endpoint!.host}:${info.endpoint!.port}/health`);
        assert.equal(res.statusCode, 200);
        await res.body.dump();
        t0 = performance.now();
        await runtime.stop(info.id, 5_000);
        const stopMs = ms(t0);
        assert.equal(await state(info.id), 'exited');
        t.diagnostic(`timings ms: create ${createMs}, start ${startMs}, health-ready ${readyMs}, stop ${stopMs}`);
        await runtime.remove(info.id);
      });

      await suite.test('ping resolves while the engine answers', async () => {
        await runtime.ping(5_000);
        await runtime.ping(5_000);
      });

      await suite.test('create is idempotent for the same name and spec hash, also when two race', async () => {
        const s = spec();
        const a = await runtime.create(s);
        const b = await runtime.create(s);
        assert.equal(b.id, a.id);
        const raced = spec();
        const [x, y] = await Promise.all([runtime.create(raced), runtime.create(raced)]);
        assert.equal(x.id, y.id);
        const listed = await runtime.list({ ...setup.labels, [CASE_LABEL]: raced.labels[CASE_LABEL]! });
        assert.deepEqual(listed.map((c) => c.id), [x.id]);
      });

      await suite.test('create with the same name but another spec hash throws ContainerConflictError', async () => {
        const s = spec();
        const a = await runtime.create(s);
        await assert.rejects(runtime.create({ ...s, labels: { ...s.labels, [LABEL_SPEC_HASH]: 'hash-2' } }), (err) => {
          assert.ok(err instanceof ContainerConflictError);
          assert.equal(err.existingId, a.id);
          return true;
        });
        assert.equal((await runtime.inspect(a.id))?.state, 'created', 'the existing container is left alone');
      });

      await suite.test('start is idempotent', async () => {
        const first = await started();
        const again = await runtime.start(first.id);
        assert.equal(again.state, 'running');
        assert.deepEqual(again.endpoint, first.endpoint);
        await runtime.remove(first.id);
      });

      await suite.test('stop is idempotent: running, stopped, never started, missing', async () => {
        const created = await runtime.create(spec());
        await runtime.stop(created.id, 1_000);
        assert.equal(await state(created.id), 'created');
        const info = await runtime.start(created.id);
        await ready(info);
        await runtime.stop(info.id, 5_000);
        assert.equal(await state(info.id), 'exited');
        await runtime.stop(info.id, 5_000);
        await runtime.remove(info.id);
        await runtime.stop(info.id, 1_000);
      });

      await suite.test('stop escalates to SIGKILL when the server ignores SIGTERM', async () => {
        const info = await started({ env: { FAKE_IGNORE_SIGTERM: '1' }, stopTimeoutMs: 1_000 });
        await ready(info); // its SIGTERM handler is installed by now
        const t0 = performance.now();
        await runtime.stop(info.id, 1_000);
        const after = await runtime.inspect(info.id);
        assert.equal(after?.state, 'exited');
        assert.equal(after?.exitCode, 137, 'killed by SIGKILL');
        assert.ok(ms(t0) < 20_000, `stop took ${ms(t0)} ms`);
        const logs = await runtime.logs(info.id, 50);
        assert.ok(logs.some((l) => l.includes('SIGTERM received: ignoring')), `SIGTERM reached the server: ${logs.join('\n')}`);
        await runtime.remove(info.id);
      });

      await suite.test('remove is idempotent: running, already removed, never existed', async () => {
        const info = await started();
        await runtime.remove(info.id);
        assert.equal(await runtime.inspect(info.id), undefined);
        await runtime.remove(info.id);
        await Promise.all([runtime.remove(info.id), runtime.remove('swapdock-contract-never-existed')]);
        const racing = await started();
        await Promise.all([runtime.remove(racing.id), runtime.remove(racing.id)]);
        assert.equal(await runtime.inspect(racing.id), undefined);
      });

      await suite.test('list returns the containers carrying all given labels, in any state', async () => {
        const group = { ...setup.labels, 'io.swapdock.contract-group': run };
        const a = await runtime.create(spec({ labels: { ...group, 'io.swapdock.contract-role': 'a' } }));
        const b = await started({ labels: { ...group, 'io.swapdock.contract-role': 'b' } });
        assert.deepEqual((await runtime.list(group)).map((c) => c.id).sort(), [a.id, b.id].sort());
        const onlyA = await runtime.list({ ...group, 'io.swapdock.contract-role': 'a' });
        assert.deepEqual(onlyA.map((c) => [c.id, c.name, c.state]), [[a.id, a.name, 'created']]);
        assert.equal(onlyA[0]?.labels['io.swapdock.contract-role'], 'a');
        assert.deepEqual(await runtime.list({ ...group, 'io.swapdock.contract-role': 'nobody' }), []);
        await Promise.all([runtime.remove(a.id), runtime.remove(b.id)]);
      });

      await suite.test("logs returns the fake model's last lines, oldest first", async () => {
        const info = await started();
        await ready(info);
        const all = await runtime.logs(info.id, 100);
        const startLine = all.findIndex((l) => l.includes('fake-model: starting'));
        const listenLine = all.findIndex((l) => l.includes('fake-model: listening on'));
        assert.ok(startLine >= 0 && listenLine > startLine, `start then listen lines in: ${all.join('\n')}`);
        const last2 = await runtime.logs(info.id, 2);
        assert.equal(last2.length, 2);
        assert.deepEqual(last2, (await runtime.logs(info.id, 100)).slice(-2));
        await runtime.remove(info.id);
        assert.deepEqual(await runtime.logs(info.id, 10), [], 'a removed container has no logs');
      });

      await followLogsCases(suite, { runtime, started, ready, until });

      await suite.test('a container that exits at start shows exited with its code and its fatal log line', async () => {
        const { id, info, exited: atStart } = await startedOrExited(runtime, spec({ env: { FAKE_EXIT_ON_START: '3' } }));
        if (info) assert.ok(info.endpoint, 'start() returns a running container with its endpoint, or throws');
        if (atStart) assert.equal(atStart.exitCode, 3);
        const exited = await until(async () => {
          const i = await runtime.inspect(id);
          return i?.state === 'exited' ? i : undefined;
        });
        assert.equal(exited.exitCode, 3);
        assert.equal(exited.endpoint, undefined);
        const logs = await runtime.logs(id, 20);
        assert.ok(logs.some((l) => l.includes('fatal: simulated start failure')), logs.join('\n'));
        await runtime.remove(id);
      });

      await suite.test('waitForReady fails fast with ContainerExitedError and the log lines', async () => {
        // The exit may beat start()'s own inspect: then start() throws the same error.
        const { id, info, exited: atStart } = await startedOrExited(runtime, spec({ env: { FAKE_EXIT_ON_START: '3' } }));
        const t0 = performance.now();
        const err = atStart ?? (await ready(info!, 30_000).then(() => assert.fail('waitForReady resolved for a container that exits'), (e: unknown) => e));
        assert.ok(err instanceof ContainerExitedError, String(err));
        assert.equal(err.exitCode, 3);
        assert.equal(err.oomKilled, false);
        assert.ok(err.lastLogLines.some((l) => l.includes('fatal: simulated start failure')), err.message);
        assert.ok(ms(t0) < 10_000, `failed after ${ms(t0)} ms, not at the 30 s timeout`);
        await runtime.remove(id);
      });

      await suite.test('waitForReady waits through 503s until the backend is ready', async () => {
        const info = await started({ env: { FAKE_READY_DELAY_MS: '300' } });
        await ready(info);
        const res = await request(`http://${info.endpoint!.host}:${info.endpoint!.port}/health`);
        assert.equal(res.statusCode, 200);
        await res.body.dump();
        await runtime.remove(info.id);
      });

      await suite.test('waitForReady times out with ReadinessTimeoutError and the log lines', async () => {
        const info = await started({ env: { FAKE_LISTEN_DELAY_MS: '60000' } });
        await assert.rejects(ready(info, 800), (err) => {
          assert.ok(err instanceof ReadinessTimeoutError, String(err));
          assert.equal(err.timeoutMs, 800);
          assert.ok(err.lastLogLines.some((l) => l.includes('not listening')), err.message);
          return true;
        });
        assert.equal(await state(info.id), 'running', 'waitForReady does not stop anything');
        await runtime.remove(info.id);
      });

      await suite.test('ensureImage: present image with pull never is fine; a missing one is ImageUnavailableError', async () => {
        await runtime.ensureImage(spec());
        await runtime.ensureImage(spec({ pull: 'missing' }));
        const missing = `swapdock-contract-missing-${run}:nope`;
        await assert.rejects(runtime.ensureImage(spec({ image: missing, pull: 'never' })), (err) => {
          assert.ok(err instanceof ImageUnavailableError, String(err));
          assert.match(err.message, new RegExp(missing));
          assert.match(err.message, /never/);
          return true;
        });
      });

      await suite.test('create of an image the engine does not have is ImageUnavailableError', async () => {
        const missing = `swapdock-contract-missing-${run}:nope`;
        await assert.rejects(runtime.create(spec({ image: missing })), (err) => {
          assert.ok(err instanceof ImageUnavailableError, String(err));
          assert.equal(err.image, missing);
          return true;
        });
      });

      await suite.test('waitForReady rejects with the abort reason when its signal is aborted', async () => {
        const info = await started({ env: { FAKE_LISTEN_DELAY_MS: '60000' } });
        assert.ok(info.endpoint);
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error('client went away')), 100);
        const t0 = performance.now();
        await assert.rejects(
          waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint, healthPath: '/health', timeoutMs: 30_000, signal: ac.signal }),
          /client went away/,
        );
        assert.ok(ms(t0) < 5_000, `aborted after ${ms(t0)} ms`);
        await runtime.remove(info.id);
      });

      await suite.test("watch: a crash is a 'died' event with exit code 3 and the container's labels within 2 s", async (t) => {
        const s = spec();
        const watcher = watchEvents({ ...setup.labels, [CASE_LABEL]: s.labels[CASE_LABEL]! });
        const info = await runtime.start((await runtime.create(s)).id);
        await ready(info);
        const crashedAt = await crash(info);
        const died = await watcher.next((e) => e.kind === 'died', 2_000);
        const latency = Math.round(died.receivedAt - crashedAt);
        t.diagnostic(`crash -> 'died' delivered: ${latency} ms`);
        assert.ok(latency <= 2_000, `delivered after ${latency} ms`);
        assert.equal(died.containerId, info.id);
        assert.equal(died.exitCode, 3);
        assert.notEqual(died.oomKilled, true);
        assert.deepEqual(died.labels, s.labels);
        assert.ok(Math.abs(died.at - Date.now()) < 60_000, `at ${died.at} is a ms timestamp`);
        watcher.sub.close();
        await runtime.remove(info.id);
      });

      await suite.test("watch: a container removed by hand is 'died' then 'removed'; a stop is 'died' too", async () => {
        const s = spec();
        const watcher = watchEvents({ ...setup.labels, [CASE_LABEL]: s.labels[CASE_LABEL]! });
        const stopped = await runtime.start((await runtime.create(s)).id);
        await ready(stopped);
        await runtime.stop(stopped.id, 5_000);
        const died = await watcher.next((e) => e.containerId === stopped.id);
        assert.equal(died.kind, 'died');
        assert.equal(typeof died.exitCode, 'number');
        await runtime.start(stopped.id);
        await (setup.removeByHand ?? ((id: string) => runtime.remove(id)))(stopped.id);
        const kinds = [(await watcher.next(() => true)).kind, (await watcher.next(() => true)).kind];
        assert.deepEqual(kinds, ['died', 'removed']);
        assert.equal(watcher.events.at(-1)?.containerId, stopped.id);
        assert.deepEqual(watcher.events.at(-1)?.labels, s.labels);
        watcher.sub.close();
      });

      await suite.test('watch: events of containers without all the labels are not delivered; close() stops delivery', async () => {
        const [sa, sb] = [spec(), spec()];
        const all = watchEvents(setup.labels);
        const onlyA = watchEvents({ ...setup.labels, [CASE_LABEL]: sa.labels[CASE_LABEL]! });
        const onlyB = watchEvents({ ...setup.labels, [CASE_LABEL]: sb.labels[CASE_LABEL]! });
        const wrongValue = watchEvents({ ...setup.labels, [CASE_LABEL]: `${sa.labels[CASE_LABEL]}-other` });
        const [a, b] = await Promise.all([sa, sb].map(async (x) => runtime.start((await runtime.create(x)).id)));
        await Promise.all([ready(a!), ready(b!)]);
        await crash(b!);
        assert.equal((await onlyB.next((e) => e.kind === 'died')).containerId, b!.id);
        await all.next((e) => e.containerId === b!.id);
        onlyA.sub.close();
        await crash(a!);
        await all.next((e) => e.containerId === a!.id && e.kind === 'died');
        await runtime.remove(a!.id);
        await all.next((e) => e.containerId === a!.id && e.kind === 'removed');
        await new Promise((r) => setTimeout(r, 300)); // time for a stray event to arrive
        assert.deepEqual(onlyA.events, [], 'A saw nothing: B has other labels, and A was closed before A crashed');
        assert.deepEqual(wrongValue.events, []);
        assert.deepEqual(onlyB.events.map((e) => e.containerId), [b!.id]);
        [all, onlyB, wrongValue].forEach((w) => w.sub.close());
        await runtime.remove(b!.id);
      });

      await suite.test("ensureImage with pull 'always' uses the local image when the pull fails", async () => {
        await runtime.ensureImage(spec({ pull: 'always' }));
      });

      await suite.test("ensureImage with pull 'missing' and no reachable registry is ImageUnavailableError", async () => {
        const missing = `swapdock-contract-missing-${run}:nope`;
        await assert.rejects(runtime.ensureImage(spec({ image: missing, pull: 'missing' })), (err) => {
          assert.ok(err instanceof ImageUnavailableError, String(err));
          assert.match(err.message, /pulling it failed/);
          return true;
        });
      });
    } finally {
      subscriptions.forEach((sub) => sub.close());
      await setup.cleanup();
    }
  });
}
