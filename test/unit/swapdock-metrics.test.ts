// SwapdockMetrics fed with scheduler events directly: the exposition text's names, labels and values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SwapdockMetrics } from '../../src/metrics/swapdock-metrics.js';
import type { ModelSnapshot } from '../../src/scheduler/slot-view.js';
import type { ModelStatus } from '../../src/scheduler/model-state.js';
import { SchedulerEvents, type ModelStateEvent, type RequestEvent } from '../../src/scheduler/scheduler-events.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

function model(id: string, status: ModelStatus = 'stopped', counts: { inFlight?: number; queued?: number } = {}): ModelSnapshot {
  return { id, status, usesGpu: false, devices: [], inFlight: counts.inFlight ?? 0, queued: counts.queued ?? 0, draining: false, pinned: false, baseline: false };
}

function setup(models: ModelSnapshot[] = [model('qwen'), model('llama')], engines: { name: string; unavailable?: string }[] = [{ name: 'default' }]) {
  const events = new SchedulerEvents();
  const source = { events, models, engines, snapshot: () => source.models, engineStates: () => source.engines };
  const metrics = new SwapdockMetrics(source, { processMetrics: false });
  return { events, source, metrics };
}

function request(fields: Partial<RequestEvent>): RequestEvent {
  return { requestId: 'r1', model: 'qwen', method: 'POST', path: '/v1/chat/completions', status: 200, durationMs: 1200, at: 0, ...fields };
}

function transition(modelId: string, from: ModelStatus, to: ModelStatus, fields: Partial<ModelStateEvent> = {}): ModelStateEvent {
  return { model: modelId, from, to, at: 0, ...fields };
}

describe('SwapdockMetrics', () => {
  it('counts requests by model and status, with duration, time to first token, wait and tokens', async () => {
    const { events, metrics } = setup();
    events.emit('request', request({ durationMs: 1200, ttftMs: 80, waitMs: 0, tokensIn: 12, tokensOut: 30 }));
    events.emit('request', request({ durationMs: 300, ttftMs: 300, waitMs: 4000, tokensIn: 5, tokensOut: 7 }));
    events.emit('request', request({ status: 503, durationMs: 30_000, waitMs: 30_000 }));
    const text = await metrics.render();

    assert.equal(sampleValue(text, 'swapdock_requests_total', { model: 'qwen', status: '200' }), 2);
    assert.equal(sampleValue(text, 'swapdock_requests_total', { model: 'qwen', status: '503' }), 1);
    assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_count', { model: 'qwen' }), 3);
    assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_sum', { model: 'qwen' }), 31.5);
    assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_bucket', { model: 'qwen', le: '0.5' }), 1);
    assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_bucket', { model: 'qwen', le: '2.5' }), 2);
    assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_bucket', { model: 'qwen', le: '+Inf' }), 3);
    // The failed request never sent a first byte: only two observations.
    assert.equal(sampleValue(text, 'swapdock_time_to_first_token_seconds_count', { model: 'qwen' }), 2);
    assert.equal(sampleValue(text, 'swapdock_time_to_first_token_seconds_bucket', { model: 'qwen', le: '0.1' }), 1);
    assert.equal(sampleValue(text, 'swapdock_queue_wait_seconds_count', { model: 'qwen' }), 3);
    assert.equal(sampleValue(text, 'swapdock_queue_wait_seconds_sum', { model: 'qwen' }), 34);
    assert.equal(sampleValue(text, 'swapdock_tokens_total', { model: 'qwen', direction: 'in' }), 17);
    assert.equal(sampleValue(text, 'swapdock_tokens_total', { model: 'qwen', direction: 'out' }), 37);
  });

  it('counts a request that never reached a model under model="" and observes nothing for it', async () => {
    const { events, metrics } = setup();
    events.emit('request', request({ model: undefined, status: 404, durationMs: 1 }));
    const samples = parseExposition(await metrics.render());
    assert.equal(sampleValue(samples, 'swapdock_requests_total', { model: '', status: '404' }), 1);
    assert.ok(!samples.some((s) => s.name.startsWith('swapdock_request_duration_seconds') && s.labels.model === ''));
  });

  it('has every series of a configured model at 0 before anything happens', async () => {
    const { metrics } = setup();
    const text = await metrics.render();
    for (const id of ['qwen', 'llama']) {
      assert.equal(sampleValue(text, 'swapdock_request_duration_seconds_count', { model: id }), 0);
      assert.equal(sampleValue(text, 'swapdock_time_to_first_token_seconds_count', { model: id }), 0);
      assert.equal(sampleValue(text, 'swapdock_model_load_duration_seconds_count', { model: id }), 0);
      assert.equal(sampleValue(text, 'swapdock_tokens_total', { model: id, direction: 'out' }), 0);
      assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: id, reason: 'request' }), 0);
      assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: id, reason: 'ttl' }), 0);
      assert.equal(sampleValue(text, 'swapdock_container_restarts_total', { model: id }), 0);
      assert.equal(sampleValue(text, 'swapdock_model_failures_total', { model: id }), 0);
    }
    assert.equal(sampleValue(text, 'swapdock_swaps_total'), 0);
  });

  it('counts loads with the cause of their start, load durations, and unloads with their reason', async () => {
    const { events, metrics } = setup();
    events.emit('model', transition('qwen', 'stopped', 'starting', { cause: 'request' }));
    events.emit('model', transition('qwen', 'starting', 'ready', { durationMs: 4200 }));
    events.emit('model', transition('qwen', 'ready', 'stopping', { cause: 'ttl' }));
    events.emit('model', transition('qwen', 'stopping', 'stopped', { cause: 'ttl', durationMs: 300 }));
    events.emit('model', transition('qwen', 'stopped', 'starting', { cause: 'admin' }));
    events.emit('model', transition('qwen', 'starting', 'ready', { durationMs: 800 }));
    events.emit('model', transition('llama', 'stopped', 'ready', { cause: 'adopted' }));
    const text = await metrics.render();

    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'request' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'admin' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'llama', reason: 'adopted' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: 'qwen', reason: 'ttl' }), 1, 'stopping → stopped is the same unload');
    assert.equal(sampleValue(text, 'swapdock_model_load_duration_seconds_count', { model: 'qwen' }), 2);
    assert.equal(sampleValue(text, 'swapdock_model_load_duration_seconds_sum', { model: 'qwen' }), 5);
    assert.equal(sampleValue(text, 'swapdock_model_load_duration_seconds_bucket', { model: 'qwen', le: '1' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_load_duration_seconds_count', { model: 'llama' }), 0, 'an adoption is not a load that took time');
  });

  it('counts a crash as an unload and a failure, and the start after it as a restart', async () => {
    const { events, metrics } = setup();
    events.emit('model', transition('qwen', 'stopped', 'starting', { cause: 'request' }));
    events.emit('model', transition('qwen', 'starting', 'ready', { durationMs: 1000 }));
    events.emit('model', transition('qwen', 'ready', 'failed', { cause: 'crash', exitCode: 137, oomKilled: true }));
    events.emit('model', transition('qwen', 'failed', 'starting', { cause: 'restart' }));
    events.emit('model', transition('qwen', 'starting', 'ready', { durationMs: 1000 }));
    const text = await metrics.render();

    assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: 'qwen', reason: 'crash' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_failures_total', { model: 'qwen' }), 1);
    assert.equal(sampleValue(text, 'swapdock_container_restarts_total', { model: 'qwen' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'restart' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'request' }), 1);
  });

  it('counts a load that fails as a failure, not as a load or an unload', async () => {
    const { events, metrics } = setup();
    events.emit('model', transition('qwen', 'stopped', 'starting', { cause: 'request' }));
    events.emit('model', transition('qwen', 'starting', 'failed', { reason: 'health check timed out' }));
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_model_failures_total', { model: 'qwen' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'request' }), 0);
    assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: 'qwen', reason: 'crash' }), 0);
  });

  it('counts swaps', async () => {
    const { events, metrics } = setup();
    events.emit('swap', { from: ['llama'], to: 'qwen', at: 0 });
    events.emit('swap', { from: ['qwen'], to: 'llama', at: 0 });
    assert.equal(sampleValue(await metrics.render(), 'swapdock_swaps_total'), 2);
  });

  it('reads state, queue depth and in-flight from the snapshot at scrape time, following reloads', async () => {
    const { source, metrics } = setup([model('qwen', 'ready', { inFlight: 3, queued: 2 }), model('llama', 'starting', { queued: 1 })]);
    let text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_requests_in_flight', { model: 'qwen' }), 3);
    assert.equal(sampleValue(text, 'swapdock_queue_depth', { model: 'qwen' }), 2);
    assert.equal(sampleValue(text, 'swapdock_queue_depth', { model: 'llama' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_state', { model: 'qwen', state: 'ready' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_state', { model: 'qwen', state: 'stopped' }), 0);
    assert.equal(sampleValue(text, 'swapdock_model_state', { model: 'llama', state: 'starting' }), 1);
    assert.equal(parseExposition(text).filter((s) => s.name === 'swapdock_model_state' && s.labels.model === 'qwen').length, 6, 'one series per state (sleeping included)');

    // A reload removed llama and added mistral.
    source.models = [model('qwen', 'stopped'), model('mistral')];
    text = await metrics.render();
    const samples = parseExposition(text);
    assert.equal(sampleValue(samples, 'swapdock_model_state', { model: 'qwen', state: 'stopped' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_requests_in_flight', { model: 'qwen' }), 0);
    assert.equal(sampleValue(samples, 'swapdock_model_state', { model: 'mistral', state: 'stopped' }), 1);
    assert.equal(sampleValue(samples, 'swapdock_model_loads_total', { model: 'mistral', reason: 'request' }), 0, 'a new model has its series at once');
    assert.ok(!samples.some((s) => s.name === 'swapdock_model_state' && s.labels.model === 'llama'), 'a removed model has no state');
  });

  it('names the engine a model holds in swapdock_model_engine, with no stale series once it moved or stopped', async () => {
    const on = (engine: string | undefined, status: ModelStatus = 'ready'): ModelSnapshot => ({ ...model('qwen', status), engine });
    const { source, metrics } = setup([on('tower'), model('llama')], [{ name: 'tower' }, { name: 'rack' }]);
    const engineSeries = async () => parseExposition(await metrics.render()).filter((s) => s.name === 'swapdock_model_engine').map((s) => [s.labels, s.value]);
    assert.deepEqual(await engineSeries(), [[{ model: 'qwen', engine: 'tower' }, 1]], 'a model that holds no engine has no series');
    source.models = [on('rack', 'starting'), model('llama')]; // failed over to rack
    assert.deepEqual(await engineSeries(), [[{ model: 'qwen', engine: 'rack' }, 1]]);
    source.models = [on('rack', 'sleeping'), model('llama')];
    assert.deepEqual(await engineSeries(), [[{ model: 'qwen', engine: 'rack' }, 1]], 'a sleeping model still holds its engine');
    source.models = [on(undefined, 'stopped'), model('llama')];
    assert.deepEqual(await engineSeries(), []);
    // The per-model series keep their labels: no engine label that would split them when a model moves.
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_model_state', { model: 'qwen', state: 'stopped' }), 1);
    assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'qwen', reason: 'request' }), 0);
  });

  it('swapdock_engine_up and swapdock_engine_outages_total per engine of a pool; neither with one engine', async () => {
    const { source, events, metrics } = setup([model('qwen')], [{ name: 'tower' }, { name: 'rack' }]);
    let text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_engine_up', { engine: 'tower' }), 1);
    assert.equal(sampleValue(text, 'swapdock_engine_up', { engine: 'rack' }), 1);
    assert.equal(sampleValue(text, 'swapdock_engine_outages_total', { engine: 'rack' }), 0, 'at 0 before the first outage');

    source.engines = [{ name: 'tower', unavailable: 'connection refused' }, { name: 'rack' }];
    events.emit('engine', { engine: 'tower', state: 'down', reason: 'connection refused', at: 0 });
    text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_engine_up', { engine: 'tower' }), 0);
    assert.equal(sampleValue(text, 'swapdock_engine_up', { engine: 'rack' }), 1);
    assert.equal(sampleValue(text, 'swapdock_engine_outages_total', { engine: 'tower' }), 1);
    source.engines = [{ name: 'tower' }, { name: 'rack' }];
    events.emit('engine', { engine: 'tower', state: 'up', at: 1 });
    text = await metrics.render();
    assert.equal(sampleValue(text, 'swapdock_engine_up', { engine: 'tower' }), 1);
    assert.equal(sampleValue(text, 'swapdock_engine_outages_total', { engine: 'tower' }), 1, 'coming back is not an outage');

    const single = setup([{ ...model('qwen', 'ready'), engine: 'default' }]).metrics;
    const samples = parseExposition(await single.render());
    assert.ok(!samples.some((s) => s.name.startsWith('swapdock_engine_')), 'one engine: no engine_up (never taken out of service), no outages');
    assert.equal(sampleValue(samples, 'swapdock_model_engine', { model: 'qwen', engine: 'default' }), 1);
  });

  it('documents every metric with HELP and TYPE, uses the Prometheus content type, and stops listening on close', async () => {
    const { events, metrics } = setup();
    const text = await metrics.render();
    for (const [name, type] of [
      ['swapdock_requests_total', 'counter'],
      ['swapdock_request_duration_seconds', 'histogram'],
      ['swapdock_time_to_first_token_seconds', 'histogram'],
      ['swapdock_queue_wait_seconds', 'histogram'],
      ['swapdock_queue_depth', 'gauge'],
      ['swapdock_requests_in_flight', 'gauge'],
      ['swapdock_model_state', 'gauge'],
      ['swapdock_model_loads_total', 'counter'],
      ['swapdock_model_unloads_total', 'counter'],
      ['swapdock_model_load_duration_seconds', 'histogram'],
      ['swapdock_model_failures_total', 'counter'],
      ['swapdock_container_restarts_total', 'counter'],
      ['swapdock_swaps_total', 'counter'],
      ['swapdock_tokens_total', 'counter'],
      ['swapdock_model_engine', 'gauge'],
      ['swapdock_engine_up', 'gauge'],
      ['swapdock_engine_outages_total', 'counter'],
    ]) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'));
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    }
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
    metrics.close();
    assert.equal(events.listenerCount('request') + events.listenerCount('model') + events.listenerCount('swap') + events.listenerCount('engine'), 0);
  });

  it('has its own registry: two instances do not share values, and process metrics are opt-out', async () => {
    const a = setup();
    const b = setup();
    a.events.emit('swap', { from: ['llama'], to: 'qwen', at: 0 });
    assert.equal(sampleValue(await a.metrics.render(), 'swapdock_swaps_total'), 1);
    assert.equal(sampleValue(await b.metrics.render(), 'swapdock_swaps_total'), 0);
    assert.doesNotMatch(await a.metrics.render(), /^process_cpu/m);
    const withProcess = new SwapdockMetrics({ events: new SchedulerEvents(), snapshot: () => [] });
    assert.match(await withProcess.render(), /^process_cpu_user_seconds_total \d/m);
  });
});
