// GET /metrics on a real server: requests (streaming with usage included), a load, an unload and
// a crash, then one scrape shows them with the documented names and labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildServer, chat, waitFor } from '../support/app-harness.js';
import { parseExposition, sampleValue } from '../support/prometheus-text.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
models:
  a: { image: fake-model:latest }
  b: { image: fake-model:latest }
`;

type Usage = { prompt_tokens: number; completion_tokens: number };

describe('GET /metrics', () => {
  it('shows requests, durations, tokens, loads and unloads with reasons, and model states', async () => {
    const server = await buildServer(MODELS);
    const scrape = async () => {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    try {
      // Before anything happened, every configured model has its series.
      const fresh = await scrape();
      assert.equal(sampleValue(fresh, 'swapdock_model_state', { model: 'a', state: 'stopped' }), 1);
      assert.equal(sampleValue(fresh, 'swapdock_model_loads_total', { model: 'b', reason: 'admin' }), 0);

      const plain = await fetch(`${server.url}/v1/chat/completions`, chat('a'));
      assert.equal(plain.status, 200);
      const { usage } = (await plain.json()) as { usage: Usage };
      const stream = await fetch(`${server.url}/v1/chat/completions`, chat('a', { stream: true, fake_chunks: 3, stream_options: { include_usage: true } }));
      const streamed = await stream.text();
      const streamUsage = JSON.parse(/"usage":(\{[^}]*\})/.exec(streamed)![1]!) as Usage;
      assert.equal(streamUsage.completion_tokens, 3);
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('nope'))).status, 404);

      assert.equal((await fetch(`${server.url}/api/models/b/load`, { method: 'POST' })).status, 200);
      assert.equal((await fetch(`${server.url}/api/models/a/unload`, { method: 'POST' })).status, 200);

      // A request's event is emitted when its response has closed: wait for the last one.
      let text = '';
      await waitFor(async () => {
        text = await scrape();
        return sampleValue(text, 'swapdock_request_duration_seconds_count', { model: 'a' }) === 2;
      }, 5000, 'both requests to a in the metrics');
      const samples = parseExposition(text);
      const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);

      assert.equal(value('swapdock_requests_total', { model: 'a', status: '200' }), 2);
      assert.equal(value('swapdock_requests_total', { model: '', status: '404' }), 1, 'an unknown model is counted without a model');
      assert.equal(value('swapdock_time_to_first_token_seconds_count', { model: 'a' }), 2, 'streaming and not');
      assert.equal(value('swapdock_queue_wait_seconds_count', { model: 'a' }), 2);
      assert.equal(value('swapdock_queue_wait_seconds_bucket', { model: 'a', le: '+Inf' }), 2);
      assert.equal(value('swapdock_tokens_total', { model: 'a', direction: 'in' }), usage.prompt_tokens + streamUsage.prompt_tokens);
      assert.equal(value('swapdock_tokens_total', { model: 'a', direction: 'out' }), usage.completion_tokens + streamUsage.completion_tokens);

      assert.equal(value('swapdock_model_loads_total', { model: 'a', reason: 'request' }), 1);
      assert.equal(value('swapdock_model_loads_total', { model: 'b', reason: 'admin' }), 1);
      assert.equal(value('swapdock_model_unloads_total', { model: 'a', reason: 'admin' }), 1);
      assert.equal(value('swapdock_model_load_duration_seconds_count', { model: 'a' }), 1);
      assert.equal(value('swapdock_model_load_duration_seconds_count', { model: 'b' }), 1);
      assert.ok(value('swapdock_model_load_duration_seconds_sum', { model: 'b' }) > 0);
      assert.equal(value('swapdock_model_state', { model: 'a', state: 'stopped' }), 1);
      assert.equal(value('swapdock_model_state', { model: 'a', state: 'ready' }), 0);
      assert.equal(value('swapdock_model_state', { model: 'b', state: 'ready' }), 1);
      assert.equal(value('swapdock_requests_in_flight', { model: 'b' }), 0);
      assert.equal(value('swapdock_queue_depth', { model: 'b' }), 0);
      assert.equal(value('swapdock_swaps_total'), 0);
      assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'), 'process metrics');
    } finally {
      await server.shutdown();
    }
  });

  it('counts a crash as an unload and a failure, and the start after it as a container restart', async () => {
    const server = await buildServer(MODELS);
    try {
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('a'))).status, 200);
      await server.runtime.kill(server.scheduler.snapshotOf('a')!.containerId!);
      await waitFor(() => server.scheduler.snapshotOf('a')!.status === 'failed', 3000, 'the crash noticed');
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('a'))).status, 200);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: 'a', reason: 'crash' }), 1);
      assert.equal(sampleValue(text, 'swapdock_model_failures_total', { model: 'a' }), 1);
      assert.equal(sampleValue(text, 'swapdock_container_restarts_total', { model: 'a' }), 1);
      assert.equal(sampleValue(text, 'swapdock_model_loads_total', { model: 'a', reason: 'restart' }), 1);
      assert.equal(sampleValue(text, 'swapdock_model_state', { model: 'a', state: 'ready' }), 1);
    } finally {
      await server.shutdown();
    }
  });

  it('counts a swap', async () => {
    const server = await buildServer(`
defaults: { ttl: 0, stopTimeout: 1s }
maxLoaded: 1
models:
  a: { image: fake-model:latest }
  b: { image: fake-model:latest }
`);
    try {
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('a'))).status, 200);
      assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('b'))).status, 200);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.equal(sampleValue(text, 'swapdock_swaps_total'), 1);
      assert.equal(sampleValue(text, 'swapdock_model_unloads_total', { model: 'a', reason: 'swap' }), 1);
    } finally {
      await server.shutdown();
    }
  });

  it('shows the request in flight and the one queued behind it at scrape time', async () => {
    const server = await buildServer(`
defaults: { ttl: 0, stopTimeout: 1s }
models:
  a: { image: fake-model:latest, maxConcurrent: 1 }
`);
    try {
      assert.equal((await fetch(`${server.url}/api/models/a/load`, { method: 'POST' })).status, 200, 'loaded first: no early heartbeat');
      const stream = await fetch(`${server.url}/v1/chat/completions`, chat('a', { stream: true, fake_chunks: 20, fake_chunk_delay_ms: 50 }));
      const reader = stream.body!.getReader();
      await reader.read();
      const queued = fetch(`${server.url}/v1/chat/completions`, chat('a'));
      await waitFor(() => server.scheduler.snapshotOf('a')!.queued === 1, 2000, 'a queued request');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.equal(sampleValue(text, 'swapdock_requests_in_flight', { model: 'a' }), 1);
      assert.equal(sampleValue(text, 'swapdock_queue_depth', { model: 'a' }), 1);
      while (!(await reader.read()).done);
      assert.equal((await queued).status, 200);
    } finally {
      await server.shutdown();
    }
  });
});
