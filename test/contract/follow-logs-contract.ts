// The followLogs part of the runtime contract (runtime-contract.ts runs it for the fake, Docker
// and Podman): a container's output from its start, then live, stdout and stderr apart, with the
// engine's timestamps; `tail`, abort, and a missing container.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import type { ContainerInfo, ContainerRuntime, ContainerSpec, LogLine } from '../../src/runtime/container-runtime.js';

export interface FollowLogsCaseContext {
  runtime: ContainerRuntime;
  /** Creates and starts a container of the suite's fake-model spec with these changes. */
  started: (over?: Partial<ContainerSpec>) => Promise<ContainerInfo>;
  /** Waits until its /health answers 200. */
  ready: (info: ContainerInfo) => Promise<unknown>;
  /** Retries `fn` until it returns something other than undefined. */
  until: <T>(fn: () => Promise<T | undefined>) => Promise<T>;
}

export async function followLogsCases(suite: TestContext, { runtime, started, ready, until }: FollowLogsCaseContext): Promise<void> {
  await suite.test('followLogs: history from the start, then live lines; stdout and stderr apart, timestamped; ends when the container stops', async () => {
    const info = await started({ env: { FAKE_STDERR_LINE: 'this goes to stderr' } });
    await ready(info);
    const lines: LogLine[] = [];
    const abort = new AbortController();
    const following = (async () => {
      for await (const line of runtime.followLogs(info.id, { signal: abort.signal })) lines.push(line);
    })();
    const has = (text: string) => async () => lines.find((l) => l.line.includes(text));
    const first = await until(has('fake-model: starting'));
    assert.equal(first.stream, 'stdout');
    assert.ok(Math.abs(first.at - Date.now()) < 60_000, `at ${first.at} is a ms timestamp`);
    // The engines interleave stdout and stderr in no fixed order: the first stdout line is the first one printed.
    assert.equal(lines.find((l) => l.stream === 'stdout'), first, `the history starts at the container's start: ${JSON.stringify(lines.slice(0, 3))}`);
    assert.equal((await until(has('fake-model: this goes to stderr'))).stream, 'stderr');
    await until(has('listening on'));
    const res = await request(`http://${info.endpoint!.host}:${info.endpoint!.port}/v1/models?live-line`);
    await res.body.dump();
    const live = await until(has('GET /v1/models?live-line 200'));
    assert.equal(live.stream, 'stdout');
    assert.ok(lines.every((l) => !l.line.includes('\n') && !/^\d{4}-\d\d-\d\dT/.test(l.line)), 'one line each, without the engine timestamp');
    await runtime.stop(info.id, 5_000);
    await until(async () => ((await Promise.race([following.then(() => true), new Promise((r) => setTimeout(r, 50))])) ? true : undefined));
    assert.ok(lines.some((l) => l.line.includes('SIGTERM: shutting down')), 'the last lines before the stop');
    await runtime.remove(info.id);
  });

  await suite.test('followLogs: tail limits the history; aborting ends it; a missing container yields nothing', async () => {
    const info = await started();
    await ready(info);
    const all = await runtime.logs(info.id, 100);
    const abort = new AbortController();
    const lines: LogLine[] = [];
    const following = (async () => {
      for await (const line of runtime.followLogs(info.id, { signal: abort.signal, tail: 1 })) lines.push(line);
    })();
    await until(async () => (lines.length ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(lines.map((l) => l.line), all.slice(-1));
    abort.abort();
    await following;
    assert.equal((await runtime.inspect(info.id))?.state, 'running', 'aborting a follow leaves the container alone');
    await runtime.remove(info.id);
    const gone: LogLine[] = [];
    for await (const line of runtime.followLogs(info.id, { signal: new AbortController().signal })) gone.push(line);
    assert.deepEqual(gone, []);
  });
}
