// The scheduler's `model` and `swap` events carry why a model loaded or unloaded (the causes
// metrics count by): request, admin, preload, restart; swap, ttl, crash, admin — with durations
// and the exit code of a crash.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerEvents, type ModelStateEvent } from '../../src/scheduler/scheduler-events.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { startApp, chat, silentLog, testConfig, waitFor } from '../support/app-harness.js';

const MODELS = `
instance: app-events
defaults: { ttl: 0, stopTimeout: 1s }
models:
  gpu-a: { image: fake-model:latest, gpus: all }
  gpu-b: { image: fake-model:latest, gpus: all }
  brief: { image: fake-model:latest, ttl: 150ms }
  early: { image: fake-model:latest, preload: true }
`;

function record(events: SchedulerEvents) {
  const model: ModelStateEvent[] = [];
  const swaps: { from: string[]; to: string }[] = [];
  events.on('model', (e) => model.push(e));
  events.on('swap', (e) => swaps.push(e));
  const of = (id: string) => model.filter((e) => e.model === id).map((e) => `${e.from}>${e.to}:${e.cause ?? ''}`);
  return { model, swaps, of };
}

describe('model events', () => {
  it('a swap emits swap, and the evicted model stops with cause swap and the duration of its stop', async () => {
    const events = new SchedulerEvents();
    const seen = record(events);
    const h = await startApp(MODELS, { gpuSupport: true }, { events });
    try {
      await (await h.request('/v1/chat/completions', chat('gpu-a'))).text();
      await (await h.request('/v1/chat/completions', chat('gpu-b'))).text();
      assert.deepEqual(seen.swaps.map((s) => [s.from, s.to]), [[['gpu-a'], 'gpu-b']]);
      assert.deepEqual(seen.of('gpu-a'), ['stopped>starting:request', 'starting>ready:request', 'ready>stopping:swap', 'stopping>stopped:swap']);
      const stopped = seen.model.find((e) => e.model === 'gpu-a' && e.to === 'stopped')!;
      assert.equal(typeof stopped.durationMs, 'number');
      assert.match(stopped.reason!, /evicted for 'gpu-b'/);
      const ready = seen.model.find((e) => e.model === 'gpu-b' && e.to === 'ready')!;
      assert.ok(ready.durationMs! > 0, 'a load has its duration');
    } finally {
      await h.close();
    }
  });

  it('a crash is cause crash with the exit code; the next request restarts it (cause restart)', async () => {
    const events = new SchedulerEvents();
    const seen = record(events);
    const h = await startApp(MODELS, { gpuSupport: true }, { events });
    try {
      await (await h.request('/v1/chat/completions', chat('gpu-a'))).text();
      await h.runtime.kill(h.scheduler.snapshotOf('gpu-a')!.containerId!);
      await waitFor(() => seen.model.some((e) => e.to === 'failed'), 5000, 'the crash');
      const failed = seen.model.find((e) => e.to === 'failed')!;
      assert.equal(failed.cause, 'crash');
      assert.equal(failed.exitCode, 137);
      await (await h.request('/v1/chat/completions', chat('gpu-a'))).text();
      assert.deepEqual(seen.of('gpu-a').slice(-3), ['ready>failed:crash', 'failed>starting:restart', 'starting>ready:restart']);
    } finally {
      await h.close();
    }
  });

  it('idle TTL, admin load and unload, and preload are told apart; shutdown stops with cause shutdown', async () => {
    const events = new SchedulerEvents();
    const seen = record(events);
    const h = await startApp(MODELS, { gpuSupport: true }, { events });
    try {
      await (await h.request('/v1/chat/completions', chat('brief'))).text();
      await waitFor(() => seen.of('brief').includes('stopping>stopped:ttl'), 5000, 'the TTL stop');
      assert.equal((await h.request('/api/models/brief/load', { method: 'POST' })).status, 200);
      assert.equal((await h.request('/api/models/brief/unload', { method: 'POST' })).status, 200);
      assert.deepEqual(seen.of('brief').slice(-4), ['stopped>starting:admin', 'starting>ready:admin', 'ready>stopping:admin', 'stopping>stopped:admin']);
      await waitFor(() => h.scheduler.snapshotOf('early')!.status === 'ready', 5000, 'the preload');
      assert.deepEqual(seen.of('early'), ['stopped>starting:preload', 'starting>ready:preload']);
      await h.close();
      assert.deepEqual(seen.of('early').slice(-2), ['ready>stopping:shutdown', 'stopping>stopped:shutdown']);
    } finally {
      await h.close();
    }
  });

  it('a container adopted after a restart is ready with cause adopted, and its earlier output is captured', async () => {
    const h = await startApp(MODELS, { gpuSupport: true });
    try {
      await (await h.request('/v1/chat/completions', chat('gpu-a'))).text();
      // A second swapdock on the same engine (the first one "restarted" without stopping its containers).
      const next = new Scheduler({ runtime: h.runtime, config: testConfig(MODELS), log: silentLog });
      const seen = record(next.events);
      await next.adoptLeftovers();
      assert.deepEqual(seen.of('gpu-a'), ['stopped>ready:adopted']);
      await waitFor(() => next.observer.logs.history('gpu-a').some((l) => l.line.includes('fake-model: starting')), 5000, 'the earlier output');
      next.observer.close();
    } finally {
      await h.close();
    }
  });
});
