// The admin API: model states, load, unload (draining or forced), unload all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, buildServer, chat, waitFor } from '../support/app-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
models:
  m: { image: fake-model:latest, aliases: [mm] }
  org/slashed: { image: fake-model:latest }
`;
const post = (path: string) => ({ method: 'POST' }) as RequestInit;

describe('admin API', () => {
  it('GET /api/models reports state without starting anything', async () => {
    const h = await startApp(MODELS);
    try {
      const body = JSON.parse(await (await h.request('/api/models')).text());
      assert.deepEqual(body.models.map((m: { id: string; status: string }) => [m.id, m.status]), [['m', 'stopped'], ['org/slashed', 'stopped']]);
      assert.deepEqual(Object.keys(body.models[0]).filter((k) => ['inFlight', 'queued', 'devices', 'lastUsedAt', 'loadDurationMs', 'aliases'].includes(k)).sort(), ['aliases', 'devices', 'inFlight', 'lastUsedAt', 'queued']);
      assert.equal(h.runtime.calls.create, 0);
    } finally {
      await h.close();
    }
  });

  it('loads and unloads a model, ids with slashes included', async () => {
    const h = await startApp(MODELS);
    try {
      const loaded = await h.request('/api/models/org/slashed/load', post(''));
      assert.equal(loaded.status, 200);
      const body = JSON.parse(await loaded.text());
      assert.equal(body.status, 'ready');
      assert.equal(h.scheduler.snapshotOf('org/slashed')!.status, 'ready');
      const stats = JSON.parse(await (await h.request('/api/models')).text());
      assert.ok(stats.models[1].loadDurationMs >= 0);
      assert.equal(stats.models[1].inFlight, 0);
      assert.equal((await h.request('/api/models/org/slashed/unload', post(''))).status, 200);
      assert.equal(h.scheduler.snapshotOf('org/slashed')!.status, 'stopped');
    } finally {
      await h.close();
    }
  });

  it('unknown models and actions get OpenAI-shaped 404s', async () => {
    const h = await startApp(MODELS);
    try {
      const unknown = await h.request('/api/models/nope/load', post(''));
      assert.equal(unknown.status, 404);
      assert.equal(JSON.parse(await unknown.text()).error.code, 'model_not_found');
      const badAction = await h.request('/api/models/m/explode', post(''));
      assert.equal(badAction.status, 404);
      assert.equal(JSON.parse(await badAction.text()).error.code, 'route_not_found');
    } finally {
      await h.close();
    }
  });

  it('unload drains: the request in flight completes first', async () => {
    const h = await startApp(MODELS);
    try {
      const res = await h.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 5, fake_chunk_delay_ms: 60 }));
      const body = res.text();
      // A cold stream gets its head at once: unload once the request is really in flight.
      await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 1, 5000, 'the request in flight');
      const unloaded = await h.request('/api/models/m/unload', post(''));
      assert.equal(unloaded.status, 200);
      assert.match(await body, /\[DONE\]/);
      assert.equal(h.scheduler.snapshotOf('m')!.status, 'stopped');
    } finally {
      await h.close();
    }
  });

  it('unloading a model while it starts cancels the start: stopped, not failed', async () => {
    const h = await startApp(`models:\n  slow: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "2000" } }\n`);
    try {
      const waiting = h.request('/v1/chat/completions', chat('slow'));
      await waitFor(() => h.scheduler.snapshotOf('slow')!.status === 'starting');
      assert.equal((await h.request('/api/models/slow/unload', post(''))).status, 200);
      const res = await waiting;
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(await res.text()).error.code, 'model_unloaded');
      await waitFor(() => h.scheduler.snapshotOf('slow')!.status === 'stopped');
      assert.equal(h.scheduler.snapshotOf('slow')!.lastError, undefined);
      assert.deepEqual(await h.runtime.list({ 'io.swapdock.model': 'slow' }), [], 'no container left');
    } finally {
      await h.close();
    }
  });

  it('POST /api/models/unload stops every model', async () => {
    const h = await startApp(MODELS);
    try {
      await (await h.request('/v1/chat/completions', chat('m'))).text();
      await (await h.request('/v1/chat/completions', chat('org/slashed'))).text();
      assert.equal((await h.request('/api/models/unload', post(''))).status, 200);
      assert.deepEqual(h.scheduler.snapshot().map((s) => s.status), ['stopped', 'stopped']);
    } finally {
      await h.close();
    }
  });

  it('unload?force=true cuts the request in flight with an error event', async () => {
    const server = await buildServer(MODELS);
    try {
      assert.equal((await fetch(`${server.url}/api/models/m/load`, { method: 'POST' })).status, 200);
      const res = await fetch(`${server.url}/v1/chat/completions`, chat('m', { stream: true, fake_chunks: 50, fake_chunk_delay_ms: 50 }));
      const reader = res.body!.getReader();
      await reader.read();
      const unload = fetch(`${server.url}/api/models/m/unload?force=true`, { method: 'POST' });
      let text = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      assert.equal((await unload).status, 200);
      assert.doesNotMatch(text, /\[DONE\]/);
      assert.match(text, /unloaded by an administrator/);
      await waitFor(() => server.scheduler.snapshotOf('m')!.status === 'stopped');
    } finally {
      await server.shutdown();
    }
  });
});
