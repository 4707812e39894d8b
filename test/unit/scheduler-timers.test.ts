// The scheduler's timers on fake time: an instant backend (no containers, no HTTP) and node:test's
// mocked setTimeout and Date, so hours of idle TTL, sleep TTL and queue waits run in microseconds
// and each expiry is checked at the exact millisecond it is due.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load-config.js';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import type { SleepControl } from '../../src/scheduler/backends/sleep-control.js';
import type { ModelBackend } from '../../src/scheduler/model-backend.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';

const log = pino({ level: 'silent' });

/** Records what the scheduler asked of it; every call succeeds at once. */
function instantBackend() {
  const calls: string[] = [];
  let next = 0;
  const control: SleepControl = {
    sleep: async () => void calls.push('sleep'),
    wake: async () => void calls.push('wake'),
    isAsleep: async () => false,
    controlPaths: [],
  };
  const backend: ModelBackend = {
    start: async ({ model }) => {
      calls.push(`start ${model.id}`);
      return { id: `c${++next}`, endpoint: { host: '127.0.0.1', port: 1 } };
    },
    stop: async (_runtime, id) => void calls.push(`stop ${id}`),
    ready: async () => undefined,
    sleepControl: (model) => (model.sleep ? control : undefined),
  };
  return { backend, calls };
}

/** Only what the scheduler touches outside the backend: log capture and removal of dead containers. */
const runtime = {
  followLogs: async function* () {},
  logs: async () => [],
  remove: async () => undefined,
} as unknown as ContainerRuntime;

function schedulerFor(yaml: string) {
  const { backend, calls } = instantBackend();
  const scheduler = new Scheduler({ runtime, config: parseConfigText(yaml, 'test', {}), log, backend });
  return { scheduler, calls };
}

/** Lets promise chains settle (the backend's calls resolve in microtasks). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await settle();
}

describe('scheduler timers on fake time', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('stops an idle model exactly ttl after its last request, a request in between pushing it back', async () => {
    const { scheduler, calls } = schedulerFor('models:\n  a: { image: x, ttl: 10m }\n');
    (await scheduler.acquire('a')).release();
    await advance(5 * 60_000);
    (await scheduler.acquire('a')).release(); // used again at 5 min
    await advance(10 * 60_000 - 1);
    assert.equal(scheduler.statusOf('a'), 'ready', 'one ms before 10 min of idleness');
    await advance(1);
    assert.equal(scheduler.statusOf('a'), 'stopped');
    assert.deepEqual(calls, ['start a', 'stop c1']);
  });

  it('never stops a model while a request is in flight, and counts its ttl from that request’s end', async () => {
    const { scheduler } = schedulerFor('models:\n  a: { image: x, ttl: 1m }\n');
    (await scheduler.acquire('a')).release();
    const lease = await scheduler.acquire('a');
    await advance(5 * 60_000);
    assert.equal(scheduler.statusOf('a'), 'ready');
    lease.release();
    await advance(60_000 - 1);
    assert.equal(scheduler.statusOf('a'), 'ready');
    await advance(1);
    assert.equal(scheduler.statusOf('a'), 'stopped');
  });

  it('idle ladder: ttl puts a sleep-capable model to sleep, sleep.ttl later stops it', async () => {
    const { scheduler, calls } = schedulerFor('models:\n  a: { image: x, gpus: 1, ttl: 1m, sleep: { kind: vllm, memory: 1g, ttl: 2h } }\n');
    (await scheduler.acquire('a')).release();
    await advance(60_000);
    assert.equal(scheduler.statusOf('a'), 'sleeping');
    await advance(2 * 3_600_000 - 1);
    assert.equal(scheduler.statusOf('a'), 'sleeping');
    await advance(1);
    assert.equal(scheduler.statusOf('a'), 'stopped');
    assert.deepEqual(calls, ['start a', 'sleep', 'stop c1']);
  });

  it('a request for a sleeping model wakes the same container (no start), and the ladder begins again', async () => {
    const { scheduler, calls } = schedulerFor('models:\n  a: { image: x, gpus: 1, ttl: 1m, sleep: { kind: vllm, memory: 1g } }\n');
    (await scheduler.acquire('a')).release();
    await advance(60_000);
    const lease = await scheduler.acquire('a');
    assert.equal(lease.containerId, 'c1');
    lease.release();
    await advance(60_000);
    assert.equal(scheduler.statusOf('a'), 'sleeping');
    assert.deepEqual(calls, ['start a', 'sleep', 'wake', 'sleep']);
  });

  it('a queued request times out exactly at queue.maxWait, with the reason it waited', async () => {
    const { scheduler } = schedulerFor('queue: { maxWait: 30s }\nmodels:\n  a: { image: x, ttl: 0, maxConcurrent: 1 }\n');
    const first = await scheduler.acquire('a');
    const waiting = scheduler.acquire('a') as Promise<unknown>;
    let outcome: unknown;
    waiting.then((v) => (outcome = v), (err: Error) => (outcome = err));
    await advance(30_000 - 1);
    assert.equal(outcome, undefined, 'still queued');
    await advance(1);
    assert.match(String((outcome as unknown as Error).message), /30 s.*busy with 1 request/);
    first.release();
  });
});
