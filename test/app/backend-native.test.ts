// Backend-native surface through a real server: llama.cpp's /props by model, WebSocket upgrades
// on /upstream/{model}/{path} (a lease held while the socket is open), and a backend that stopped
// listening answered with 502 naming the model on every route that reaches it.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'undici';
import { buildServer, waitFor } from '../support/app-harness.js';
import { formHeaders, formPieces, rawPost } from '../support/raw-http.js';

/** Sends an upgrade request and resolves with the HTTP answer when it is not a 101. */
function refusedUpgrade(url: string, path: string, extra: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...extra } });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('upgraded'));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true });
    ws.addEventListener('error', () => reject(new Error('websocket error')), { once: true });
  });
}

describe('backend-native routes', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  before(async () => {
    server = await buildServer(`instance: app-native\nmodels:\n  m: { image: fake-model:latest, aliases: [m-alias] }\n  ws: { image: fake-model:latest }\n  broken: { image: fake-model:latest }\n`);
  });
  after(() => server.shutdown());

  it('GET /props?model= reaches that model (starting it), POST /props names it in the body', async () => {
    const res = await fetch(`${server.url}/props?model=m-alias`);
    assert.equal(res.status, 200);
    const props = (await res.json()) as any;
    assert.equal(props.default_generation_settings.n_ctx, 4096);
    assert.equal(props.query, 'model=m-alias');
    assert.equal(server.scheduler.snapshotOf('m')!.status, 'ready');

    const posted = await fetch(`${server.url}/props`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', n_ctx: 1 }) });
    assert.equal(posted.status, 200);
    assert.deepEqual(((await posted.json()) as any).posted, { model: 'm', n_ctx: 1 });

    const missing = await fetch(`${server.url}/props`);
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as any).error.message, /\/props\?model=<id>/);
    const unknown = await fetch(`${server.url}/props?model=nope`);
    assert.equal(unknown.status, 404);
  });

  it('a WebSocket on /upstream/{model}/{path} reaches the container and holds a lease while open', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/upstream/ws/chat/socket?room=1`);
    assert.equal(await nextMessage(ws), 'hello /chat/socket?room=1');
    assert.equal(server.scheduler.snapshotOf('ws')!.inFlight, 1);
    ws.send('ping');
    assert.equal(await nextMessage(ws), 'echo: ping');
    const big = 'x'.repeat(40_000);
    ws.send(big);
    assert.equal(await nextMessage(ws), `echo: ${big}`);
    ws.close();
    await waitFor(() => server.scheduler.snapshotOf('ws')!.inFlight === 0, 5000, 'the lease to be released on close');
  });

  it('an upgrade for an unknown model or outside /upstream gets an HTTP error with a JSON body', async () => {
    const unknown = await refusedUpgrade(server.url, '/upstream/localhost:22/x');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'model_not_found');
    const elsewhere = await refusedUpgrade(server.url, '/v1/chat/completions');
    assert.equal(elsewhere.status, 404);
    assert.equal(elsewhere.json.error.code, 'route_not_found');
  });

  it('a backend that stopped listening gets 502 naming the model, on every route', async () => {
    const warm = await fetch(`${server.url}/upstream/broken/fake/stop-listening`, { method: 'POST' });
    assert.equal(warm.status, 200);
    await warm.text();
    await new Promise((r) => setTimeout(r, 50));
    const expect502 = (status: number, json: any, route: string) => {
      assert.equal(status, 502, `${route}: ${JSON.stringify(json)}`);
      assert.equal(json.error.code, 'upstream_unreachable', route);
      assert.match(json.error.message, /model 'broken'/, route);
    };
    const props = await fetch(`${server.url}/props?model=broken`);
    expect502(props.status, await props.json(), '/props');
    const upload = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), formPieces([{ name: 'model', data: 'broken' }, { name: 'file', filename: 'a.wav', data: Buffer.alloc(1000) }]));
    expect502(upload.status, upload.json, 'transcriptions');
    const ws = await refusedUpgrade(server.url, '/upstream/broken/ws');
    expect502(ws.status, ws.json, 'websocket');
    const chat = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'broken', messages: [] }) });
    expect502(chat.status, await chat.json(), 'chat');
    assert.equal(server.scheduler.snapshotOf('broken')!.inFlight, 0);
  });
});

describe('WebSocket upgrades with auth.keys', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  before(async () => {
    server = await buildServer(`instance: app-native-auth\nauth:\n  keys:\n    - { name: alice, key: alice-key-123-456, models: [open] }\nmodels:\n  open: { image: fake-model:latest }\n  closed: { image: fake-model:latest }\n`);
  });
  after(() => server.shutdown());

  it('needs a key, and one that may use the model', async () => {
    const none = await refusedUpgrade(server.url, '/upstream/open/ws');
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'missing_api_key');
    const other = await refusedUpgrade(server.url, '/upstream/closed/ws', { authorization: 'Bearer alice-key-123-456' });
    assert.equal(other.status, 403);
    assert.equal(server.scheduler.snapshotOf('closed')!.status, 'stopped', 'a refused upgrade starts nothing');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/upstream/open/ws`, { headers: { authorization: 'Bearer alice-key-123-456' } });
    assert.equal(await nextMessage(ws), 'hello /ws');
    ws.close();
  });
});
