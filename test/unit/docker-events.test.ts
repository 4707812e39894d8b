// The events half of the engine adapter without a real engine: the raw-line parser, and
// DockerRuntime.watch against a scripted HTTP server on a unix socket (stream splits, engine
// restarts with `since`, backoff, close). Real engines run the same watch in the contract suite.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ContainerEvent } from '../../src/runtime/container-runtime.js';
import { newEngineEventState, parseEngineEvents, WATCH_BACKOFF } from '../../src/runtime/docker-events.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { EngineUnavailableError } from '../../src/runtime/runtime-errors.js';

const ID = 'c0ffee'.padEnd(64, '0');
const LABELS = { 'io.swapdock.managed-by': 'swapdock', 'io.swapdock.model': 'm1' };
const T = 1_795_319_716_369_872_352; // timeNano (a double: fine, as the engine's own JSON parse)

function line(action: string, attrs: Record<string, string> = {}, opts: { id?: string; timeNano?: number; type?: string } = {}): string {
  const id = opts.id ?? ID;
  const timeNano = opts.timeNano ?? T;
  return JSON.stringify({
    status: action, id, from: 'img:1', Type: opts.type ?? 'container', Action: action,
    Actor: { ID: id, Attributes: { ...LABELS, image: 'img:1', name: 'swapdock-m1', 'io.swapdock.container-port': '8000', ...attrs } },
    scope: 'local', time: Math.floor(timeNano / 1e9), timeNano,
  });
}

test('parseEngineEvents: Docker oom then die is one died event with oomKilled; destroy is removed', () => {
  const state = newEngineEventState('docker', LABELS);
  const events = parseEngineEvents([
    line('oom', {}, { timeNano: T }),
    line('die', { exitCode: '137' }, { timeNano: T + 1e6 }),
    line('destroy', {}, { timeNano: T + 2e9 }),
  ], state);
  assert.deepEqual(events, [
    { kind: 'died', containerId: ID, labels: LABELS, exitCode: 137, oomKilled: true, at: Math.floor((T + 1e6) / 1e6) },
    { kind: 'removed', containerId: ID, labels: LABELS, at: Math.floor((T + 2e9) / 1e6) },
  ]);
  assert.equal(state.oom.size, 0, 'the oom mark is used up by the die');
  assert.equal(state.lastTime, Math.floor((T + 2e9) / 1e9));
  // A later plain die of the same container (restarted) is no OOM; Docker says so by omitting `oom`.
  const [again] = parseEngineEvents([line('die', { exitCode: '1' }, { timeNano: T + 3e9 })], state);
  assert.equal(again?.oomKilled, false);
  assert.equal(again?.exitCode, 1);
});

test('parseEngineEvents: Podman die without oom leaves oomKilled unknown; remove is removed; its extra attributes are no labels', () => {
  const state = newEngineEventState('podman', LABELS);
  const podman = { containerExitCode: '137', podId: '' };
  const events = parseEngineEvents([
    line('die', { ...podman, exitCode: '137' }, { timeNano: T }),
    line('remove', { containerExitCode: '0', podId: '' }, { timeNano: T + 5e8 }),
  ], state);
  assert.deepEqual(events.map((e) => [e.kind, e.exitCode, e.oomKilled]), [['died', 137, undefined], ['removed', undefined, undefined]]);
  assert.ok(!('oomKilled' in events[0]!), 'unknown, not false');
  events.forEach((e) => assert.deepEqual(e.labels, LABELS));
});

test('parseEngineEvents: skips other labels, other types and actions, blank and broken lines, and replays', () => {
  const state = newEngineEventState('docker', LABELS);
  const die = line('die', { exitCode: '3' });
  const events = parseEngineEvents([
    '', '   ', '{"status":"die", broken', 'null', '42',
    line('die', { 'io.swapdock.model': 'm2', exitCode: '3' }, { id: 'other' }),
    JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: 'nolabels', Attributes: { exitCode: '1' } }, time: 1 }),
    line('start'), line('kill', { signal: '15' }), line('create', {}, { type: 'image' }),
    die,
    die, // the same event again, as replayed after a reconnect with `since`
  ], state);
  assert.deepEqual(events.map((e) => [e.kind, e.containerId, e.exitCode]), [['died', ID, 3]]);
  assert.deepEqual(parseEngineEvents([die], state), [], 'seen before: not delivered twice');
  // Labels with an empty filter: everything with a container id passes.
  const any = parseEngineEvents([line('die', { exitCode: 'x' }, { id: 'any' })], newEngineEventState('docker', {}));
  assert.equal(any.length, 1);
  assert.ok(!('exitCode' in any[0]!), 'a non-numeric exit code is left out');
});

interface Attempt { since?: string; filters?: unknown; at: number; res: http.ServerResponse; closed: Promise<void> }

/** An HTTP server on a unix socket answering /version like Docker; /events attempts go to `onEvents`. */
async function scriptedEngine(
  onEvents: (a: Attempt, n: number) => void,
  socketPath = path.join(tmpdir(), `swapdock-events-${randomBytes(4).toString('hex')}.sock`),
) {
  const attempts: Attempt[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    if (url.pathname.endsWith('/version')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41' }));
      return;
    }
    if (!url.pathname.endsWith('/events')) {
      res.writeHead(404).end('{"message":"not here"}');
      return;
    }
    const closed = new Promise<void>((r) => res.on('close', () => r()));
    const a: Attempt = { since: url.searchParams.get('since') ?? undefined, filters: JSON.parse(url.searchParams.get('filters') ?? 'null'), at: performance.now(), res, closed };
    attempts.push(a);
    onEvents(a, attempts.length);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    attempts,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(socketPath, { force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

test('DockerRuntime.watch: splits chunks into lines, reconnects with since after the stream ends, backs off, and close() ends it all', async (t) => {
  const oom = line('oom', { 'io.swapdock.note': 'grün' }, { timeNano: T });
  const die = line('die', { exitCode: '137', 'io.swapdock.note': 'grün' }, { timeNano: T + 1e6 });
  const destroy = line('destroy', { 'io.swapdock.note': 'grün' }, { timeNano: T + 3e9 });
  const engine = await scriptedEngine((a, n) => {
    if (n === 1) {
      a.res.writeHead(200, { 'content-type': 'application/json' });
      // Two objects and a half in one chunk, the rest (splitting the multi-byte ü) in the next.
      const bytes = Buffer.from(`${oom}\n${die}\n`);
      const cut = bytes.indexOf(Buffer.from('ü', 'utf8'), Buffer.byteLength(oom) + 1) + 1;
      a.res.write(bytes.subarray(0, cut));
      setTimeout(() => {
        a.res.write(bytes.subarray(cut));
        setTimeout(() => a.res.end(), 50); // the engine stops
      }, 50);
    } else if (n <= 3) {
      a.res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"starting up"}');
    } else {
      a.res.writeHead(200, { 'content-type': 'application/json' });
      a.res.write(`${die}\n${destroy}\n`); // replays what came since `since`: the die again, then news
    }
  });
  t.after(() => engine.stop());
  const baselineTimers = timers();
  const runtime = new DockerRuntime({ host: `unix://${engine.socketPath}` });
  const events: ContainerEvent[] = [];
  const disconnects: Error[] = [];
  let reconnects = 0;
  const watchedAt = Math.floor(Date.now() / 1000);
  const sub = runtime.watch(LABELS, {
    onEvent: (e) => events.push(e),
    onDisconnect: (err) => disconnects.push(err),
    onReconnect: () => reconnects++,
  });
  t.after(() => sub.close());
  await until(() => events.length === 2);

  const [first, , , fourth] = engine.attempts;
  assert.equal(engine.attempts.length, 4);
  assert.ok(Math.abs(Number(first!.since) - watchedAt) <= 1, `first since ${first!.since} is when watch was called`);
  assert.deepEqual(first!.filters, {
    type: ['container'], event: ['die', 'died', 'oom', 'destroy', 'remove'], label: Object.entries(LABELS).map(([k, v]) => `${k}=${v}`),
  });
  assert.equal(fourth!.since, String(Math.floor((T + 1e6) / 1e9)), 'reconnects since the last event seen');
  const labels = { ...LABELS, 'io.swapdock.note': 'grün' };
  assert.deepEqual(events, [
    { kind: 'died', containerId: ID, labels, exitCode: 137, oomKilled: true, at: Math.floor((T + 1e6) / 1e6) },
    { kind: 'removed', containerId: ID, labels, at: Math.floor((T + 3e9) / 1e6) },
  ], 'the replayed die is not delivered twice');
  assert.equal(disconnects.length, 1, 'one onDisconnect per outage, not per failed attempt');
  assert.ok(disconnects[0] instanceof EngineUnavailableError, String(disconnects[0]));
  assert.match(disconnects[0].message, /event stream ended/);
  assert.equal(reconnects, 1);
  // Backoff: 250, 500, 1000 ms between the attempts (generous bounds for slow machines).
  const gaps = [1, 2, 3].map((i) => engine.attempts[i]!.at - engine.attempts[i - 1]!.at);
  const want = [WATCH_BACKOFF.initialMs, WATCH_BACKOFF.initialMs * 2, WATCH_BACKOFF.initialMs * 4];
  gaps.forEach((g, i) => assert.ok(g >= want[i]! - 20 && g < want[i]! + 200 + (i === 0 ? 150 : 0), `gaps ${gaps.map(Math.round)} ms, wanted ~${want}`));

  sub.close();
  await fourth!.closed; // the open stream is closed
  await sleep(WATCH_BACKOFF.initialMs * 3);
  assert.equal(engine.attempts.length, 4, 'no reconnect after close()');
  assert.equal(disconnects.length, 1, 'closing is no disconnect');
  assert.equal(timers(), baselineTimers, 'no timers left behind');
});

test('DockerRuntime.watch: an engine that is not there is one onDisconnect, retried until close()', async () => {
  const socketPath = path.join(tmpdir(), `swapdock-events-missing-${randomBytes(4).toString('hex')}.sock`);
  const baselineTimers = timers();
  const runtime = new DockerRuntime({ host: `unix://${socketPath}` });
  const disconnects: Error[] = [];
  const sub = runtime.watch(LABELS, { onEvent: () => assert.fail('no events'), onDisconnect: (err) => disconnects.push(err) });
  await sleep(WATCH_BACKOFF.initialMs * 4); // the first attempt and two retries
  assert.equal(disconnects.length, 1);
  assert.ok(disconnects[0] instanceof EngineUnavailableError, String(disconnects[0]));
  assert.ok(disconnects[0].message.includes(socketPath), disconnects[0].message);
  sub.close();
  sub.close(); // idempotent
  assert.equal(timers(), baselineTimers, 'the retry timer is gone');
});

test('DockerRuntime.watch: an engine coming up after watch() is a reconnect; a throwing handler does not stop the stream', async (t) => {
  const socketPath = path.join(tmpdir(), `swapdock-events-late-${randomBytes(4).toString('hex')}.sock`);
  const runtime = new DockerRuntime({ host: `unix://${socketPath}` });
  const events: ContainerEvent[] = [];
  let reconnects = 0;
  let disconnects = 0;
  const sub = runtime.watch(LABELS, {
    onEvent: (e) => {
      events.push(e);
      throw new Error('a buggy handler');
    },
    onDisconnect: () => disconnects++,
    onReconnect: () => reconnects++,
  });
  t.after(() => sub.close());
  await until(() => disconnects === 1);
  const engine = await scriptedEngine((a) => {
    a.res.writeHead(200);
    a.res.write(`${line('die', { exitCode: '1' }, { timeNano: T })}\n`);
    setTimeout(() => a.res.write(`${line('destroy', {}, { timeNano: T + 1e9 })}\n`), 20);
  }, socketPath);
  t.after(() => engine.stop());
  await until(() => events.length === 2);
  assert.deepEqual(events.map((e) => e.kind), ['died', 'removed']);
  assert.equal(reconnects, 1);
  assert.equal(disconnects, 1);
});
