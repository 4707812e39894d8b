// Every spelling of a request target reaches the route its plain form reaches — with the same
// middleware (keys, request events, the log) and the canonical path upstream — or gets a clear
// 400. Covers each form on every proxied route, over raw HTTP (fetch cannot send an absolute-form
// target or keep '//' and '/./' as written).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ANTHROPIC_PATHS, INFERENCE_PATHS, MULTIPART_PATHS } from '../../src/api/routes.js';
import type { RequestEvent } from '../../src/scheduler/scheduler-events.js';
import { startApp, type TestApp } from '../support/app-harness.js';
import { BOUNDARY, formPieces } from '../support/raw-http.js';

const ADMIN = 'targets-admin-0123456789';
const USER = 'targets-user-0123456789';

interface Answer {
  status: number;
  body: string;
}

/** Sends `target` exactly as written (absolute form, '//', '/./' and escapes included). */
function send(url: string, method: string, target: string, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: target, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The spellings of `path` that must route like `path` itself. */
function spellingsOf(path: string, host: string): Record<string, string> {
  const segments = path.split('/');
  const last = segments.pop()!;
  const encoded = `${segments.join('/')}/${last.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
  return {
    'absolute form': `http://${host}${path}`,
    'percent-encoded': encoded,
    "'//'": `/${path.replace(/\//g, '//')}`,
    "'/./'": `/.${path.replace(/\//g, '/./')}`.replace(/^\/\.\/\./, '/.'),
  };
}

describe('request targets are canonical on every proxied route', () => {
  let h: TestApp;
  const events: RequestEvent[] = [];
  const auth = { authorization: `Bearer ${ADMIN}` };

  before(async () => {
    h = await startApp(`
instance: app-targets
auth:
  keys:
    - { name: admin, key: ${ADMIN}, admin: true }
    - { name: user, key: ${USER} }
models:
  m: { image: fake-model:latest, api: both, ttl: 0 }
`);
    h.scheduler.events.on('request', (e) => events.push(e));
    assert.equal((await h.request('/api/models/m/load', { method: 'POST', headers: auth })).status, 200);
  });
  after(() => h.close());

  async function backendSaw(): Promise<Record<string, number>> {
    const res = await h.request('/upstream/m/fake/requests', { headers: auth });
    return ((await res.json()) as { byRoute: Record<string, number> }).byRoute;
  }

  /** Sends the plain and every other spelling; each must answer alike, emit its event and reach the backend at the canonical path. */
  async function checkRoute(method: string, path: string, headers: Record<string, string>, body?: () => Buffer | string, backendPath = path.split('?')[0]) {
    const { host } = new URL(h.url);
    const plain = await send(h.url, method, path, headers, body?.());
    for (const [form, target] of Object.entries(spellingsOf(path, host))) {
      const seenBefore = (await backendSaw())[`${method} ${backendPath}`] ?? 0;
      const eventsBefore = events.length;
      const answer = await send(h.url, method, target, headers, body?.());
      assert.equal(answer.status, plain.status, `${form} ${target}: ${answer.body.slice(0, 300)}`);
      const seenAfter = (await backendSaw())[`${method} ${backendPath}`] ?? 0;
      assert.equal(seenAfter, seenBefore + 1, `${form} ${target} reached the backend as ${method} ${backendPath}`);
      const event = events.slice(eventsBefore).find((e) => e.path === path.split('?')[0]);
      assert.ok(event, `${form} ${target}: a request event for ${path} (got ${JSON.stringify(events.slice(eventsBefore).map((e) => e.path))})`);
      assert.equal(event.model, 'm');
    }
  }

  const json = { ...{ authorization: `Bearer ${USER}` }, 'content-type': 'application/json' };
  for (const path of INFERENCE_PATHS) {
    it(`POST ${path}`, () => checkRoute('POST', path, json, () => JSON.stringify({ model: 'm', prompt: 'hi', messages: [{ role: 'user', content: 'hi' }], input: 'hi' })));
  }
  for (const path of MULTIPART_PATHS) {
    it(`POST ${path} (multipart)`, () =>
      checkRoute('POST', path, { authorization: `Bearer ${USER}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, () =>
        Buffer.concat(formPieces([{ name: 'file', filename: 'a.wav', data: 'RIFF' }, { name: 'model', data: 'm' }])),
      ));
  }
  it('POST /v1/messages (Anthropic)', () =>
    checkRoute('POST', ANTHROPIC_PATHS[0], json, () => JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })));
  it('GET /props?model=m', () => checkRoute('GET', '/props?model=m', { authorization: `Bearer ${USER}` }));
  it('GET /upstream/m/v1/models', () => checkRoute('GET', '/upstream/m/v1/models', { authorization: `Bearer ${USER}` }, undefined, '/v1/models'));

  it('a cold stream by an absolute-form target gets its heartbeat head at once, like the plain one', async () => {
    await h.request('/api/models/m/unload', { method: 'POST', headers: auth });
    const { host } = new URL(h.url);
    const answer = await send(h.url, 'POST', `http://${host}/v1/%63hat//completions`, json, JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^: swapdock: waiting for model 'm' to be ready/);
    assert.match(answer.body, /data: \[DONE\]/);
  });

  it('admin routes need the admin key however their path is spelled', async () => {
    const { host } = new URL(h.url);
    for (const target of ['/%61pi/models', '//api/models', '/v1/../api/models', '/v1/%2e%2e/api/models', `http://${host}/api/models`, '/api/./models']) {
      assert.equal((await send(h.url, 'GET', target, {})).status, 401, target);
      assert.equal((await send(h.url, 'GET', target, { authorization: `Bearer ${USER}` })).status, 403, target);
      assert.equal((await send(h.url, 'GET', target, auth)).status, 200, target);
    }
  });

  it('a target that cannot be read is a clear 400 in the dialect of its route', async () => {
    const bad = await send(h.url, 'POST', '/v1/chat/%zzcompletions', json, '{}');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error.code, 'invalid_request_target');
    const anthropic = await send(h.url, 'POST', '/v1/messages/%zz', json, '{}');
    assert.equal(anthropic.status, 400);
    assert.equal(JSON.parse(anthropic.body).type, 'error');
  });
});
