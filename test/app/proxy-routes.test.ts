// The OpenAI routes over HTTP against the real server with a fake runtime (real fake-model processes).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startApp, chat } from '../support/app-harness.js';

const harness = await startApp(`
instance: app-routes
models:
  alpha:
    image: fake-model:latest
    aliases: [a1]
    upstreamModel: org/alpha-7b
  beta:
    image: fake-model:latest
`);
const { runtime } = harness;
after(() => harness.close());

async function json(res: Response) {
  return JSON.parse(await res.text());
}

describe('routes that never touch a model', () => {
  it('GET /health answers without starting anything', async () => {
    const res = await harness.request('/health');
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'ok');
    assert.equal(runtime.calls.create, 0);
  });

  it('GET /v1/models lists every model and alias with its state, starting nothing', async () => {
    const body = await json(await harness.request('/v1/models'));
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m: { id: string }) => m.id), ['alpha', 'a1', 'beta']);
    assert.ok(body.data.every((m: { state: string }) => m.state === 'stopped'));
    assert.equal(body.data[1].alias_of, 'alpha');
    assert.equal(runtime.calls.create, 0);
  });

  it('unknown routes get an OpenAI-shaped 404', async () => {
    const res = await harness.request('/v1/nope', { method: 'POST' });
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error.code, 'route_not_found');
  });
});

describe('request validation', () => {
  const cases: [string, string, number, string][] = [
    ['bad JSON', '{"model": ', 400, 'invalid_json'],
    ['not an object', '[1,2]', 400, 'invalid_body'],
    ['missing model', '{"messages":[]}', 400, 'missing_model'],
    ['model of the wrong type', '{"model": 5}', 400, 'missing_model'],
    ['unknown model', '{"model":"gpt-4o"}', 404, 'model_not_found'],
  ];
  for (const [name, body, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await harness.request('/v1/chat/completions', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const err = (await json(res)).error;
      assert.equal(err.code, code);
      assert.equal(typeof err.message, 'string');
      assert.equal(typeof err.type, 'string');
    });
  }

  it('the 404 lists the available models', async () => {
    const res = await harness.request('/v1/chat/completions', chat('claude-haiku-4'));
    assert.match((await json(res)).error.message, /Available models: alpha, beta, a1/);
    assert.equal(runtime.calls.create, 0);
  });
});

describe('forwarding', () => {
  it('starts the model, resolves the alias and rewrites model to upstreamModel', async () => {
    const res = await harness.request('/v1/chat/completions', chat('a1'));
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.match(body.choices[0].message.content, /model=org\/alpha-7b/);
    assert.equal(harness.scheduler.snapshotOf('alpha')!.status, 'ready');
  });

  it('sends the model id when there is no upstreamModel, on every inference route', async () => {
    for (const path of ['/v1/chat/completions', '/v1/completions']) {
      const res = await harness.request(path, { method: 'POST', body: JSON.stringify({ model: 'beta', prompt: 'x', messages: [] }) });
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /model=beta/);
    }
    const emb = await json(await harness.request('/v1/embeddings', { method: 'POST', body: JSON.stringify({ model: 'beta', input: ['a', 'b'] }) }));
    assert.equal(emb.data.length, 2);
  });

  it('streams SSE through untouched', async () => {
    const res = await harness.request('/v1/chat/completions', chat('alpha', { stream: true, fake_chunks: 4 }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    assert.equal(events.length, 5, 'four chunks and [DONE]');
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.equal(JSON.parse(events[0]!.slice('data: '.length)).object, 'chat.completion.chunk');
  });

  it('/v1/models shows the started models as ready', async () => {
    const body = await json(await harness.request('/v1/models'));
    const states = Object.fromEntries(body.data.map((m: { id: string; state: string }) => [m.id, m.state]));
    assert.deepEqual(states, { alpha: 'ready', a1: 'ready', beta: 'ready' });
  });
});
