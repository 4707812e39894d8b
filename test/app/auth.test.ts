// API keys, per-model access, admin routes, the UI login, CORS and request-head limits, on a real
// Node server (fast path, Hono routes and /upstream alike) with a fake runtime.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load-config.js';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { chat, silentLog } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const ALICE = 'alice-key-123-456'; // qwen-* only
const BOB = 'bob-key-12345-678'; // 'small', an alias of llama
const ROOT = 'root-key-1234-567'; // admin
const KEYS = `
auth:
  keys:
    - { name: alice, key: ${ALICE}, models: [qwen-*] }
    - { name: bob, key: ${BOB}, models: [small] }
    - { name: root, key: ${ROOT}, admin: true }
cors: { origins: [https://chat.example] }
`;
const MODELS = `
models:
  qwen-a: { image: fake-model:latest, env: { HF_TOKEN: { value: hf_secret_value } } }
  llama: { image: fake-model:latest, aliases: [small] }
`;

let file: string;
let server: RunningServer;
const runtime = new FakeRuntime();

before(async () => {
  file = path.join(mkdtempSync(path.join(tmpdir(), 'swapdock-auth-')), 'models.yaml');
  writeFileSync(file, `instance: app-auth\nlisten: 127.0.0.1:0\n${KEYS}${MODELS}`);
  server = await startServer({ config: await loadConfigFile(file), log: silentLog, runtime, configFile: file, reloadPollIntervalMs: 60_000 });
});
after(() => server.shutdown());

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
function post(route: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
const chatBody = (model: string) => JSON.parse(chat(model).body as string);

describe('API keys', () => {
  it('/health is always open', async () => {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it('401 without a key and with a wrong one, OpenAI-shaped, with www-authenticate', async () => {
    const none = await post('/v1/chat/completions', chatBody('qwen-a'));
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const body = (await none.json()) as any;
    assert.equal(body.error.code, 'missing_api_key');
    assert.match(body.error.message, /Authorization: Bearer/);
    const wrong = await post('/v1/chat/completions', chatBody('qwen-a'), bearer('wrong-key-999'));
    assert.equal(wrong.status, 401);
    const text = await wrong.text();
    assert.equal(JSON.parse(text).error.code, 'invalid_api_key');
    assert.doesNotMatch(text, /wrong-key-999/);
    // Hono routes and unknown routes too: a key comes before everything else.
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${server.url}/no/such/route`)).status, 401);
    assert.equal((await fetch(`${server.url}/upstream/qwen-a/health`)).status, 401);
  });

  it('accepts the key as Bearer and as x-api-key', async () => {
    assert.equal((await post('/v1/chat/completions', chatBody('qwen-a'), bearer(ALICE))).status, 200);
    assert.equal((await post('/v1/chat/completions', chatBody('qwen-a'), { 'x-api-key': ALICE })).status, 200);
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { 'x-api-key': ALICE } })).status, 200);
  });

  it('403 for a model the key may not use, before the model is started', async () => {
    const res = await post('/v1/chat/completions', chatBody('llama'), bearer(ALICE));
    assert.equal(res.status, 403);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'model_not_allowed');
    assert.match(body.error.message, /'alice' may not use model 'llama'/);
    assert.equal(server.scheduler.snapshotOf('llama')!.status, 'stopped');
    // By alias as well: 'small' is llama.
    assert.equal((await post('/v1/embeddings', { model: 'small', input: 'x' }, bearer(ALICE))).status, 403);
  });

  it('a key allowed an alias may use the model by its id too (and by the alias)', async () => {
    assert.equal((await post('/v1/chat/completions', chatBody('llama'), bearer(BOB))).status, 200);
    assert.equal((await post('/v1/chat/completions', chatBody('small'), bearer(BOB))).status, 200);
    assert.equal((await post('/v1/chat/completions', chatBody('qwen-a'), bearer(BOB))).status, 403);
  });

  it('403 on /v1/messages in the Anthropic shape, and 401 there is Anthropic-shaped too', async () => {
    const body = { model: 'llama', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const forbidden = await post('/v1/messages', body, { 'x-api-key': ALICE, 'anthropic-version': '2023-06-01' });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(Object.keys((await forbidden.json()) as object), ['type', 'error']);
    const anonymous = await post('/v1/messages', body, { 'anthropic-version': '2023-06-01' });
    assert.equal(anonymous.status, 401);
    const error = (await anonymous.json()) as any;
    assert.equal(error.type, 'error');
    assert.equal(error.error.type, 'authentication_error');
    assert.equal((await post('/v1/messages/count_tokens', body, { 'x-api-key': ALICE })).status, 403);
  });

  it('403 on /upstream for a model the key may not use; allowed ones pass, without swapdock credentials', async () => {
    assert.equal((await fetch(`${server.url}/upstream/llama/health`, { headers: bearer(ALICE) })).status, 403);
    assert.equal((await fetch(`${server.url}/upstream/small/health`, { headers: bearer(ALICE) })).status, 403);
    const res = await fetch(`${server.url}/upstream/qwen-a/fake/requests`, { headers: { ...bearer(ALICE), 'x-api-key': ALICE } });
    assert.equal(res.status, 200);
    const seen = JSON.stringify(await res.json());
    assert.doesNotMatch(seen, new RegExp(ALICE), 'the backend never sees a swapdock key');
  });

  it('GET /v1/models shows only the models a key may use; /v1/models/{id} hides the others', async () => {
    const ids = async (key: string) => ((await (await fetch(`${server.url}/v1/models`, { headers: bearer(key) })).json()) as any).data.map((m: any) => m.id);
    assert.deepEqual(await ids(ALICE), ['qwen-a']);
    assert.deepEqual(await ids(BOB), ['llama', 'small']);
    assert.deepEqual(await ids(ROOT), ['qwen-a', 'llama', 'small']);
    const hidden = await fetch(`${server.url}/v1/models/llama`, { headers: bearer(ALICE) });
    assert.equal(hidden.status, 404);
    assert.match(await hidden.text(), /Available models: qwen-a\./);
    assert.equal((await fetch(`${server.url}/v1/models/qwen-a`, { headers: bearer(ALICE) })).status, 200);
    // A "no such model" error names only the models the key may use.
    const unknown = await post('/v1/chat/completions', chatBody('nope'), bearer(ALICE));
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /Available models: qwen-a\./);
    // The same on every route that names a model: Anthropic, multipart, /props, /upstream.
    const messages = await post('/v1/messages', { model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, bearer(ALICE));
    assert.equal(messages.status, 404);
    assert.match(await messages.text(), /Available models: qwen-a\./);
    const form = new FormData();
    form.set('model', 'nope');
    form.set('file', new Blob([Buffer.from('RIFF')]), 'a.wav');
    const upload = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form, headers: bearer(ALICE) });
    assert.equal(upload.status, 404);
    assert.match(await upload.text(), /Available models: qwen-a\./);
    for (const route of ['/props?model=nope', '/upstream/nope/health']) {
      const res = await fetch(`${server.url}${route}`, { headers: bearer(ALICE) });
      assert.equal(res.status, 404, route);
      assert.match(await res.text(), /Available models: qwen-a\./, route);
    }
  });

  it('admin routes (/api/*, /ui, /metrics) need an admin key', async () => {
    for (const route of ['/api/models', '/metrics', '/ui', '/v1/../api/models', '/%61pi/models']) {
      assert.equal((await fetch(`${server.url}${route}`)).status, 401, route);
      const res = await fetch(`${server.url}${route}`, { headers: bearer(ALICE) });
      assert.equal(res.status, 403, route);
      assert.equal(((await res.json()) as any).error.code, 'admin_key_required');
      assert.equal((await fetch(`${server.url}${route}`, { headers: bearer(ROOT) })).status, 200, route);
    }
    const reload = await fetch(`${server.url}/api/reload`, { method: 'POST', headers: { 'x-api-key': BOB } });
    assert.equal(reload.status, 403);
  });

  it('/api output shows secret env values and keys as [redacted], and the logs never hold a key', async () => {
    const text = await (await fetch(`${server.url}/api/models`, { headers: bearer(ROOT) })).text();
    assert.doesNotMatch(text, /hf_secret_value/);
    assert.match(text, /"HF_TOKEN":"\[redacted\]"/);
    const logs = await (await fetch(`${server.url}/api/logs?follow=false`, { headers: bearer(ROOT) })).text();
    assert.ok(JSON.parse(logs).lines.length > 0, 'requests were logged');
    for (const key of [ALICE, BOB, ROOT]) assert.doesNotMatch(logs, new RegExp(key));
  });

  it('the web UI: a browser without a key goes to /ui/login, which sets an admin cookie', async () => {
    const open = await fetch(`${server.url}/ui`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(open.status, 303);
    assert.equal(open.headers.get('location'), '/ui/login');
    const form = await fetch(`${server.url}/ui/login`);
    assert.equal(form.status, 200);
    assert.match(await form.text(), /<form method="post" action="\/ui\/login">/);
    const login = (key: string) =>
      fetch(`${server.url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key }) });
    const notAdmin = await login(ALICE);
    assert.equal(notAdmin.status, 401);
    assert.match(await notAdmin.text(), /not an admin key/);
    assert.equal(notAdmin.headers.get('set-cookie'), null);
    assert.equal((await login('not-a-key-at-all')).status, 401);
    const ok = await login(ROOT);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/ui');
    const cookie = ok.headers.get('set-cookie')!;
    assert.match(cookie, /^swapdock_key=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const jar = cookie.split(';')[0]!;
    assert.equal((await fetch(`${server.url}/ui`, { headers: { cookie: jar, accept: 'text/html' } })).status, 200);
    assert.equal((await fetch(`${server.url}/api/models`, { headers: { cookie: jar } })).status, 200);
    // The cookie is for the admin routes only.
    assert.equal((await fetch(`${server.url}/v1/models`, { headers: { cookie: jar } })).status, 401);
  });

  it('CORS: answers preflights for listed origins and marks their responses; others get no CORS headers', async () => {
    const preflight = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-stainless-os' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://chat.example');
    assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
    const allowed = preflight.headers.get('access-control-allow-headers')!;
    for (const h of ['authorization', 'x-api-key', 'content-type', 'anthropic-version', 'x-stainless-os']) assert.match(allowed, new RegExp(h));
    const refused = await fetch(`${server.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    // Actual responses: the fast path, a Hono route, an error.
    const fast = await post('/v1/chat/completions', chatBody('qwen-a'), { ...bearer(ALICE), origin: 'https://chat.example' });
    assert.equal(fast.status, 200);
    assert.equal(fast.headers.get('access-control-allow-origin'), 'https://chat.example');
    const list = await fetch(`${server.url}/v1/models`, { headers: { ...bearer(ALICE), origin: 'https://chat.example' } });
    assert.equal(list.headers.get('access-control-allow-origin'), 'https://chat.example');
    const denied = await post('/v1/chat/completions', chatBody('qwen-a'), { origin: 'https://chat.example' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), 'https://chat.example');
    const other = await fetch(`${server.url}/v1/models`, { headers: { ...bearer(ALICE), origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('a request head over limits.maxHeaderSize gets 431 with a JSON body', async () => {
    const { status, body } = await rawGet('/health', { 'x-big': 'a'.repeat(20_000) });
    assert.equal(status, 431);
    const error = JSON.parse(body).error;
    assert.equal(error.code, 'headers_too_large');
    assert.match(error.message, /limits\.maxHeaderSize/);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it('WebSocket upgrades need a key that may use the model', async () => {
    const upgrade = async (path: string, extra: string) => {
      const reply = await rawExchange(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`);
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
    };
    assert.equal(await upgrade('/upstream/qwen-a/ws', ''), 401);
    assert.equal(await upgrade('/upstream/llama/ws', `x-api-key: ${ALICE}\r\n`), 403);
    assert.equal(await upgrade('/upstream/qwen-a/ws', `authorization: Bearer ${ALICE}\r\n`), 101);
  });

  it('picks up changed keys on reload, and metrics.public opens /metrics', async () => {
    writeFileSync(file, `instance: app-auth\nlisten: 127.0.0.1:0\nmetrics: { public: true }\nauth: { keys: [{ name: new-root, key: new-root-key-1-234, admin: true }] }\n${MODELS}`);
    const reloaded = await fetch(`${server.url}/api/reload`, { method: 'POST', headers: bearer(ROOT) });
    assert.equal(reloaded.status, 200);
    assert.equal((await fetch(`${server.url}/api/models`, { headers: bearer(ROOT) })).status, 401, 'the old key is gone');
    assert.equal((await fetch(`${server.url}/api/models`, { headers: bearer('new-root-key-1-234') })).status, 200);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200, 'metrics are public now');
    assert.equal((await post('/v1/chat/completions', chatBody('llama'), bearer(ALICE))).status, 401);
  });
});

function rawGet(route: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(route, server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

/** Writes raw bytes and returns what came back first (the connection is closed after the first chunk). */
function rawExchange(text: string): Promise<string> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
    socket.setEncoding('utf8').once('data', (data: string) => {
      socket.destroy();
      resolve(data);
    });
    socket.on('error', reject);
  });
}
