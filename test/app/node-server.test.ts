// The real Node server (fast path for inference routes) with a fake runtime.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildServer, chat, waitFor } from '../support/app-harness.js';

let server: Awaited<ReturnType<typeof buildServer>>;
before(async () => {
  server = await buildServer(`
instance: app-node
models:
  m: { image: fake-model:latest, aliases: [mm], upstreamModel: org/m }
`);
});
after(() => server.shutdown());

describe('the Node server', () => {
  it('forwards through the fast path, with a request id', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, { ...chat('mm'), headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-42');
    assert.match((await res.json() as any).choices[0].message.content, /model=org\/m/);
  });

  it('renders errors on the fast path in the OpenAI shape', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: 'not json' });
    assert.equal(res.status, 400);
    assert.equal((await res.json() as any).error.code, 'invalid_json');
    const missing = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{"model":"nope"}' });
    assert.equal(missing.status, 404);
  });

  it('serves the other routes through Hono', async () => {
    const res = await fetch(`${server.url}/v1/models`);
    assert.equal(res.status, 200);
    assert.equal((await res.json() as any).data[0].id, 'm');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it('passes each SSE chunk on as it arrives', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('m', { stream: true, fake_chunks: 3, fake_chunk_delay_ms: 300 }));
    const reader = res.body!.getReader();
    const started = Date.now();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^data: \{/);
    // The backend waits 300 ms between chunks; a buffering proxy would deliver all at the end (~900 ms).
    assert.ok(Date.now() - started < 600, 'first chunk arrived before the stream ended');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.match(rest, /data: \[DONE\]/);
  });

  it('a client disconnect mid-stream aborts the upstream request and frees the model', async () => {
    await new Promise<void>((resolve, reject) => {
      const url = new URL(`${server.url}/v1/chat/completions`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end(chat('m', { stream: true, fake_chunks: 50, fake_chunk_delay_ms: 50 }).body as string);
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    const containerId = server.scheduler.snapshotOf('m')!.containerId!;
    await waitFor(async () => (await server.runtime.logs(containerId, 50)).some((l) => /client disconnected after \d+ chunks/.test(l)), 3000, 'the backend to see the disconnect');
    await waitFor(() => server.scheduler.snapshotOf('m')!.inFlight === 0, 3000, 'the lease to be released');
  });
});

describe('more OpenAI endpoints', () => {
  it('forwards /v1/responses, /v1/rerank, /v1/audio/speech and /v1/images/generations by model, rewriting it', async () => {
    for (const path of ['/v1/responses', '/v1/rerank', '/v1/audio/speech', '/v1/images/generations']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mm', input: 'x' }) });
      await res.text(); // whatever the backend answers is passed through
      const containerId = server.scheduler.snapshotOf('m')!.containerId!;
      const info = await server.runtime.inspect(containerId);
      const seen = (await (await fetch(`http://127.0.0.1:${info!.endpoint!.port}/fake/requests`)).json()) as { last: { path: string; body: { model: string } } };
      assert.equal(seen.last.path, path);
      assert.equal(seen.last.body.model, 'org/m');
    }
  });

  it('GET /v1/models/{id} describes one model or alias; unknown ids get a 404 with the list', async () => {
    const one = (await (await fetch(`${server.url}/v1/models/mm`)).json()) as { id: string; alias_of: string; state: string };
    assert.deepEqual([one.id, one.alias_of], ['mm', 'm']);
    const missing = await fetch(`${server.url}/v1/models/nope`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /Available models: m, mm/);
  });
});
