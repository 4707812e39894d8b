// Request shaping per model (params.set / params.strip), unlisted models, and the fallback model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer, chat } from '../support/app-harness.js';

let server: Awaited<ReturnType<typeof buildServer>>;
before(async () => {
  server = await buildServer(`
instance: app-shaping
fallback: shaped
models:
  shaped: { image: fake-model:latest, params: { set: { max_tokens: 64, temperature: 0.2, model: hijack }, strip: [logit_bias, model] } }
  hidden: { image: fake-model:latest, unlisted: true }
`);
});
after(() => server.shutdown());

async function lastRequestBody(model: string): Promise<Record<string, unknown>> {
  const info = await server.runtime.inspect(server.scheduler.snapshotOf(model)!.containerId!);
  const seen = (await (await fetch(`http://127.0.0.1:${info!.endpoint!.port}/fake/requests`)).json()) as { last: { body: Record<string, unknown> } };
  return seen.last.body;
}

describe('request shaping', () => {
  it('sets and strips body fields, never touching model', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('shaped', { max_tokens: 9999, logit_bias: { 1: 5 }, top_p: 0.9 }));
    assert.equal(res.status, 200);
    const body = await lastRequestBody('shaped');
    assert.equal(body.model, 'shaped');
    assert.equal(body.max_tokens, 64);
    assert.equal(body.temperature, 0.2);
    assert.equal(body.top_p, 0.9, 'other fields pass through');
    assert.equal('logit_bias' in body, false);
  });
});

describe('unlisted models', () => {
  it('are served by name but not listed', async () => {
    assert.equal((await fetch(`${server.url}/v1/chat/completions`, chat('hidden'))).status, 200);
    const ids = ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    assert.deepEqual(ids, ['shaped']);
  });
});

describe('the fallback model', () => {
  it('serves requests for names that are not configured', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('claude-haiku-4-5'));
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.match(answer.choices[0]!.message.content, /model=shaped/, 'the backend got the fallback model name');
  });
});

describe('llama.cpp native routes and the body limit', () => {
  it('routes /completion, /infill, /tokenize and /detokenize by model', async () => {
    for (const path of ['/completion', '/infill', '/tokenize', '/detokenize']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify({ model: 'hidden', prompt: 'x' }) });
      await res.text();
      const info = await server.runtime.inspect(server.scheduler.snapshotOf('hidden')!.containerId!);
      const seen = (await (await fetch(`http://127.0.0.1:${info!.endpoint!.port}/fake/requests`)).json()) as { byRoute: Record<string, number> };
      assert.equal(seen.byRoute[`POST ${path}`], 1, path);
    }
  });

  it('answers 413 for a body over limits.maxBody', async () => {
    const small = await buildServer(`instance: app-limit\nlimits: { maxBody: 1k }\nmodels:\n  m: { image: fake-model:latest }\n`);
    try {
      const res = await fetch(`${small.url}/v1/chat/completions`, chat('m', { padding: 'x'.repeat(4096) }));
      assert.equal(res.status, 413);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'payload_too_large');
      assert.match(error.message, /1 KiB \(limits\.maxBody\)/);
      assert.equal(small.runtime.calls.create, 0, 'nothing was started for it');
    } finally {
      await small.shutdown();
    }
  });
});
