// Fuzz: thousands of malformed requests (bad JSON, wrong types, huge and empty bodies, junk
// multipart, invalid UTF-8, odd methods, unknown routes, long and odd headers, path traversal,
// bad percent-encoding, broken HTTP) across every endpoint of a real server with API keys and
// CORS on. Reproducible: a seeded PRNG (FUZZ_SEED=<n> to try another seed; the seed is in every
// failure). Asserts: the server never crashes (it still answers /health), swapdock itself never
// answers 5xx (only a backend may), and every error body is JSON in the endpoint's dialect.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ANTHROPIC_PATHS, INFERENCE_PATHS, MULTIPART_PATHS } from '../../src/api/routes.js';

const PROPS_PATH = '/props';
import { buildServer } from '../support/app-harness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const HTTP_CASES = 2000;
const RAW_CASES = 300;
const CONCURRENCY = 16;

const ADMIN = 'fuzz-admin-key-0001';
const USER = 'fuzz-user-key-0001'; // model m only
let server: Awaited<ReturnType<typeof buildServer>>;

before(async () => {
  server = await buildServer(`
instance: app-fuzz
limits: { maxBody: 256k }
auth:
  keys:
    - { name: admin, key: ${ADMIN}, admin: true }
    - { name: user, key: ${USER}, models: [m] }
cors: { origins: [https://ok.example] }
models:
  m: { image: fake-model:latest, aliases: [mm], upstreamModel: org/m }
  anth: { image: fake-model:latest, api: anthropic }
`);
});
after(() => server.shutdown());

// ---- a small seeded PRNG (mulberry32) -------------------------------------------------------
let state = SEED >>> 0;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const chance = (p: number) => rand() < p;
const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('');

// ---- what to send ---------------------------------------------------------------------------
interface HttpCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A backend may have answered (a configured model was named): its 5xx are not swapdock's. */
  backend: boolean;
}

const REAL_MODELS = ['m', 'mm', 'anth'];
const MODEL_VALUES: unknown[] = [
  'm', 'mm', 'anth', 'nope', '', ' m', 'M', 'm\u0000', '../m', 'a'.repeat(5000), 'ø\ud800', 0, 1.5, -1, true, false, null, [], ['m'], {}, { id: 'm' },
];
const JUNK_VALUES: unknown[] = ['', 'x', 0, -1, 1e309 as unknown as number, true, null, [], {}, [1, 'a', null], { role: 'user' }, 'a'.repeat(3000)];
const MESSAGES: unknown[] = [
  [{ role: 'user', content: 'hi' }],
  [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  [{ role: 'user' }],
  [{ content: 5 }],
  [{ role: 'user', content: [{ type: 'image', source: 7 }] }],
  [{ role: 'assistant', content: [{ type: 'tool_use', id: 1, input: 'x' }] }],
  [null],
  [{ role: 'user', content: [null, 5, 'x'] }],
  [{ role: 'assistant', content: [{ type: 'tool_result', content: { a: 1 } }] }],
  'hi',
  5,
  {},
];

function jsonBody(): Buffer {
  switch (int(12)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return Buffer.from(pick(['{', '[', '{"model":', '{"model":"m"', 'null', '1', '"m"', 'true', '{}}', '{"model":"m",}', "{'model':'m'}", '\u0000', ' ']));
    case 2:
      return junk(1 + int(300));
    case 3: // invalid UTF-8 inside an otherwise fine JSON object
      return Buffer.concat([Buffer.from('{"model":"'), pick([Buffer.from([0xff, 0xfe]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]), Buffer.from(`${pick(REAL_MODELS)}","messages":[{"role":"user","content":"`), junk(8), Buffer.from('"}]}')]);
    case 4: {
      // Deep nesting: JSON.parse takes it, a JSON.stringify of it (rewriting, translating) may not.
      const depth = 3000 + int(6000);
      const messages = chance(0.5) ? '"max_tokens":5,"messages":[{"role":"user","content":"hi"}],' : '';
      return Buffer.from(`{"model":"${pick(REAL_MODELS)}",${messages}"x":${'['.repeat(depth)}${']'.repeat(chance(0.7) ? depth : 0)}}`);
    }
    case 5: // over limits.maxBody
      return Buffer.from(`{"model":"m","pad":"${'x'.repeat(270 * 1024)}"}`);
    case 6:
      return Buffer.from(`{"__proto__":{"model":"m"},"constructor":{"prototype":{"model":"m"}},"model":${JSON.stringify(pick(MODEL_VALUES))}}`);
    default: {
      const body: Record<string, unknown> = {};
      if (chance(0.9)) body.model = pick(MODEL_VALUES);
      if (chance(0.7)) body.messages = pick(MESSAGES);
      if (chance(0.4)) body.stream = pick([true, false, 'yes', 1, null, {}]);
      if (chance(0.3)) body.max_tokens = pick(JUNK_VALUES);
      if (chance(0.2)) body.prompt = pick(JUNK_VALUES);
      if (chance(0.2)) body.input = pick(JUNK_VALUES);
      if (chance(0.2)) body.system = pick(JUNK_VALUES);
      if (chance(0.2)) body.tools = pick(JUNK_VALUES);
      if (chance(0.1)) body.stop_sequences = pick(JUNK_VALUES);
      if (chance(0.1)) body.tool_choice = pick([...JUNK_VALUES, { type: 'tool' }, { type: 'any', name: 5 }]);
      if (chance(0.1)) body[text(5)] = pick(JUNK_VALUES);
      return Buffer.from(JSON.stringify(body));
    }
  }
}

function multipartBody(): { body: Buffer; contentType: string } {
  const boundary = pick(['B0undary', 'x', '', '"quoted"', '-'.repeat(80)]);
  const contentType = pick([`multipart/form-data; boundary=${boundary}`, 'multipart/form-data', 'multipart/form-data; boundary=', 'application/json', 'text/plain']);
  const part = (name: string, value: Buffer | string, file = false) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? '; filename="a.wav"' : ''}\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]);
  const parts = [];
  if (chance(0.7)) parts.push(part('model', String(pick(MODEL_VALUES))));
  if (chance(0.6)) parts.push(part('file', junk(int(2000)), true));
  if (chance(0.3)) parts.push(junk(int(200)));
  if (chance(0.2)) parts.push(part('x'.repeat(int(3000)), 'y'));
  if (chance(0.7)) parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType };
}

const GET_PATHS = [
  '/health', '/v1/models', '/v1/models/m', '/v1/models/mm', '/v1/models/%', '/v1/models/%E0%A4%A', '/v1/models/%2e%2e%2fapi', '/v1/models/',
  '/api/models', '/api/requests', '/api/logs?follow=false', '/api/logs/m?follow=false', '/api/logs/%ZZ?follow=false', '/api/logs/nope?follow=false',
  '/api/events', '/api/logs', '/metrics', '/ui', '/ui/', '/ui/login', '/ui/nope.js', `${PROPS_PATH}`, `${PROPS_PATH}?model=m`, `${PROPS_PATH}?model=%ZZ`, `${PROPS_PATH}?model=nope`,
  '/', '/v1', '/v2/chat/completions', '/%', '/%00', '/..', '/../../etc/passwd', '//api//models', '/API/MODELS', '/v1/models?x=%ZZ',
];
const UPSTREAM_PATHS = [
  '/upstream/m/health', '/upstream/m/../../etc/passwd', '/upstream/m/%2e%2e/%2e%2e/api/models', '/upstream/..%2f..%2fapi/models', '/upstream/%2e%2e/', '/upstream/',
  '/upstream/m/%ZZ', '/upstream/m/%', '/upstream/nope/x', '/upstream/m/app.js', '/upstream/mm/v1/models', '/upstream/m', '/upstream/m?x=%', '/upstream/anth/fake/requests',
];

function headers(): Record<string, string> {
  const h: Record<string, string> = {};
  const key = int(10);
  if (key < 5) h.authorization = `Bearer ${ADMIN}`;
  else if (key < 7) h['x-api-key'] = USER;
  else if (key === 7) h.authorization = pick(['Bearer', 'Bearer ', 'Basic abc', `Bearer ${text(int(200))}`, `bearer  ${ADMIN}  x`, 'x'.repeat(4000)]);
  else if (key === 8) h.cookie = pick([`swapdock_key=${ADMIN}`, 'swapdock_key=%ZZ', 'swapdock_key=', '=;=;;', `a=b; swapdock_key=${encodeURIComponent(ADMIN)}`]);
  if (chance(0.3)) h['content-type'] = pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json; charset=latin1', 'x/y; ;;=']);
  if (chance(0.2)) h.accept = pick(['text/html', 'text/event-stream', '*/*', 'application/json', 'x'.repeat(500)]);
  if (chance(0.2)) h.origin = pick(['https://ok.example', 'https://evil.example', 'null', '', 'x'.repeat(300)]);
  if (chance(0.1)) h['access-control-request-method'] = pick(['POST', 'GET', 'FOO']);
  if (chance(0.1)) h['access-control-request-headers'] = pick(['authorization, x-api-key', 'x-stainless-os', '', ',,,', 'a'.repeat(2000)]);
  if (chance(0.1)) h['x-request-id'] = pick(['', 'r'.repeat(200), 'id with spaces', '\t']);
  if (chance(0.1)) h['anthropic-version'] = pick(['2023-06-01', '', 'garbage']);
  if (chance(0.05)) h['content-encoding'] = pick(['gzip', 'br', 'identity', 'x']);
  if (chance(0.05)) for (let i = 0; i < 50 + int(100); i++) h[`x-odd-${i}`] = text(int(60));
  if (chance(0.03)) h['x-long'] = 'L'.repeat(8000 + int(12000)); // around limits.maxHeaderSize (16 KiB)
  return h;
}

function nextCase(): HttpCase {
  const h = headers();
  const roll = int(100);
  if (roll < 45) {
    const path = pick([...INFERENCE_PATHS, ...ANTHROPIC_PATHS]);
    const body = jsonBody();
    const method = chance(0.9) ? 'POST' : pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    return { method, path: chance(0.1) ? `${path}?${pick(['x=%ZZ', 'a=1&a=2', '%', 'model=m'])}` : path, headers: { 'content-type': 'application/json', ...h }, body: method === 'GET' || method === 'HEAD' ? undefined : body, backend: mentionsModel(body) };
  }
  if (roll < 55) {
    const { body, contentType } = multipartBody();
    return { method: 'POST', path: pick(MULTIPART_PATHS), headers: { ...h, 'content-type': contentType }, body, backend: mentionsModel(body) };
  }
  if (roll < 75) {
    const path = pick(GET_PATHS);
    const method = chance(0.8) ? 'GET' : pick(['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'SEARCH', 'PATCH']);
    return { method, path, headers: h, body: method === 'POST' || method === 'PUT' ? jsonBody() : undefined, backend: path.startsWith(PROPS_PATH) };
  }
  if (roll < 85) {
    const path = pick(UPSTREAM_PATHS);
    const method = pick(['GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']);
    return { method, path, headers: h, body: method === 'POST' || method === 'PUT' ? jsonBody() : undefined, backend: true };
  }
  if (roll < 92) {
    // Admin actions on names that are not models (a real unload would fail requests in flight, rightly).
    const path = pick(['/api/models/nope/load', '/api/models/%ZZ/load', '/api/models//unload', '/api/models/nope/unload?force=true', '/api/models/load', '/api/reload', '/api/models/x/y/z', '/ui/login']);
    const body = path === '/ui/login' ? Buffer.from(pick(['key=', `key=${ADMIN}`, 'key=%ZZ', 'x=1', text(100), 'key'.repeat(10000)])) : jsonBody();
    return { method: 'POST', path, headers: { ...h, 'content-type': path === '/ui/login' ? 'application/x-www-form-urlencoded' : 'application/json' }, body, backend: false };
  }
  const segments = Array.from({ length: 1 + int(6) }, () => pick([text(1 + int(20)), '%', '%zz', '%E0%A4', '..', '.', '', '%2f', 'v1', 'api', 'ui']));
  const method = pick(['GET', 'POST', 'DELETE', 'HEAD']);
  return { method, path: `/${segments.map((s) => s.replace(/[\s?#]/g, '_')).join('/')}`, headers: h, body: method === 'POST' && chance(0.5) ? jsonBody() : undefined, backend: false };
}

function mentionsModel(body: Buffer): boolean {
  const s = body.toString('latin1');
  return REAL_MODELS.some((m) => s.includes(`"${m}"`) || s.includes(`\r\n\r\n${m}\r\n`)) || s.includes('__proto__');
}

// Raw bytes on a socket: what no HTTP client library would send.
function rawCase(): Buffer {
  const target = pick(['/health', '/v1/chat/completions', '/v1/messages', '/api/models', '/upstream/m/x']);
  const auth = `Authorization: Bearer ${ADMIN}\r\n`;
  const cases = [
    () => `FOO ${target} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
    () => `GET ${target}\r\n\r\n`,
    () => `GET /${Buffer.from([0xff, 0xfe]).toString('latin1')}/x HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
    () => `GET ${target} HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close\r\n\r\n`,
    () => `GET ${target} HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\nConnection: close\r\n\r\n`,
    () => `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    () => `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    () => `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -1\r\nConnection: close\r\n\r\n`,
    () => `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`,
    () => `GET ${target}?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    () => `GET ${target} HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3000)}Connection: close\r\n\r\n`,
    () => `GET ${target} HTTP/1.1\nHost: x\n${auth.replace('\r', '')}Connection: close\n\n`,
    () => `GET ${target} HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n`,
    () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    () => `GET ${target} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n`,
    () => `GET http://evil.example/api/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    () => `GET ${target} HTTP/1.1\r\n Host: folded\r\nConnection: close\r\n\r\n`,
    () => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"model":"m"}EXTRA-JUNK\r\n\r\n`,
    () => junk(1 + int(500)).toString('latin1'),
  ];
  return Buffer.from(pick(cases)(), 'latin1');
}

// ---- sending and checking -------------------------------------------------------------------
interface Answer {
  status: number;
  contentType: string;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * Sends a case; once more on a new connection when the first try got no answer (a kept-alive
 * connection can be reset under load): a request that breaks its connection every time still fails.
 */
async function send(c: HttpCase): Promise<Answer | string> {
  const answer = await sendOnce(c, agent);
  if (typeof answer !== 'string') return answer;
  const again = await sendOnce(c, false);
  return typeof again === 'string' ? `${answer}, then on a new connection ${again}` : again;
}

function sendOnce(c: HttpCase, via: Agent | false): Promise<Answer | string> {
  const url = new URL(server.url);
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: c.method, path: c.path, headers: c.headers, agent: via, timeout: 15_000 }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.startsWith('text/event-stream') && res.statusCode === 200) {
        res.destroy(); // a live stream (/api/events, a streaming completion): its head is enough
        return resolve({ status: 200, contentType, body: '' });
      }
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, contentType, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve(`no answer (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`${req.reusedSocket ? 'reused:' : ''}no answer (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    req.end(c.body);
  });
}

function sendRaw(bytes: Buffer): Promise<string> {
  const url = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', () => undefined);
  });
}

/** What is wrong with an answer, or undefined. */
function problemWith(c: { method: string; path: string; backend: boolean }, answer: Answer): string | undefined {
  const { status, body, contentType } = answer;
  let parsed: any;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (status >= 500) {
    if (!c.backend) return `swapdock answered ${status}: ${body.slice(0, 300)}`;
    if (parsed?.error?.code === 'internal_error' || parsed?.error?.type === 'api_error' && /internal error/.test(parsed.error.message)) return `internal error ${status}: ${body.slice(0, 300)}`;
  }
  if (status < 400 || c.method === 'HEAD') return undefined;
  if (c.path.startsWith('/upstream/') && c.backend && !/^application\/json/.test(contentType)) return undefined; // a backend's own page
  if (c.path.split('?')[0] === '/ui/login' && /^text\/html/.test(contentType)) return undefined; // the login page says why
  if (!/^application\/json/.test(contentType)) return `${status} with content-type '${contentType}': ${body.slice(0, 200)}`;
  if (parsed === undefined) return `${status} with a body that is not JSON: ${body.slice(0, 200)}`;
  const anthropic = /^\/v1\/messages(\/|\?|$)/.test(c.path);
  if (anthropic && c.method === 'POST') {
    if (parsed.type !== 'error' || typeof parsed.error?.type !== 'string' || typeof parsed.error?.message !== 'string') return `not an Anthropic error: ${body.slice(0, 200)}`;
  } else if (typeof parsed.error?.message !== 'string' || typeof parsed.error?.type !== 'string') {
    if (!(anthropic && parsed.type === 'error')) return `not an OpenAI error: ${body.slice(0, 200)}`;
  }
  return undefined;
}

async function health(): Promise<number> {
  return (await fetch(`${server.url}/health`)).status;
}

describe('fuzz', () => {
  it(`survives ${HTTP_CASES} malformed HTTP requests across every endpoint (seed ${SEED})`, { timeout: 60_000 }, async () => {
    const cases = Array.from({ length: HTTP_CASES }, nextCase);
    const failures: string[] = [];
    let next = 0;
    const counts = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const index = next++;
          const c = cases[index]!;
          const answer = await send(c);
          if (typeof answer === 'string') {
            // Acceptable only where swapdock refuses a body early and closes (e.g. 413 while sending).
            if (!(c.body && c.body.length > 200 * 1024)) failures.push(`#${index} ${c.method} ${c.path} [${Object.keys(c.headers).join(',').slice(0, 100)}] body ${c.body?.length ?? 0} B: ${answer}`);
            continue;
          }
          counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
          const problem = problemWith(c, answer);
          if (problem) failures.push(`#${index} ${c.method} ${c.path.slice(0, 120)} [${Object.keys(c.headers).join(',').slice(0, 100)}] body ${c.body?.length ?? 0} B ${JSON.stringify(c.body?.subarray(0, 160).toString('latin1') ?? '')} → ${problem}`);
          if (index % 500 === 0) assert.equal(await health(), 200, `the server answers /health after case #${index}`);
        }
      }),
    );
    assert.equal(await health(), 200);
    assert.deepEqual(failures.slice(0, 15), [], `seed ${SEED}: ${failures.length} failures; statuses ${JSON.stringify(Object.fromEntries(counts))}`);
    // The fuzz reached past the front door: models answered, and errors of every kind came back.
    for (const status of [200, 400, 401, 403, 404, 413]) assert.ok((counts.get(status) ?? 0) > 0, `some answers were ${status}: ${JSON.stringify(Object.fromEntries(counts))}`);
  });

  it(`answers ${RAW_CASES} broken raw HTTP messages with JSON or a closed connection (seed ${SEED})`, { timeout: 60_000 }, async () => {
    const failures: string[] = [];
    for (let batch = 0; batch < RAW_CASES; batch += CONCURRENCY) {
      const bytes = Array.from({ length: Math.min(CONCURRENCY, RAW_CASES - batch) }, rawCase);
      const replies = await Promise.all(bytes.map(sendRaw));
      replies.forEach((reply, i) => {
        const sent = bytes[i]!.toString('latin1').split('\r\n')[0]!.slice(0, 80);
        if (reply === '') return; // closed without a word: only for bytes that are not HTTP at all
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1]);
        if (!status) return void failures.push(`${JSON.stringify(sent)} → not an HTTP response: ${JSON.stringify(reply.slice(0, 100))}`);
        const split = reply.indexOf('\r\n\r\n');
        const head = reply.slice(0, split).toLowerCase();
        let body = reply.slice(split + 4);
        if (/transfer-encoding: chunked/.test(head)) body = body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '');
        const contentType = /content-type: ([^\r\n]+)/.exec(head)?.[1] ?? '';
        const path = /^\S+ (\S+)/.exec(sent)?.[1] ?? '/';
        const problem = problemWith({ method: sent.split(' ')[0]!, path, backend: path.startsWith('/upstream/') }, { status, contentType, body });
        if (problem) failures.push(`${JSON.stringify(sent)} → ${problem}`);
      });
    }
    assert.equal(await health(), 200);
    assert.deepEqual(failures.slice(0, 15), [], `seed ${SEED}: ${failures.length} failures`);
  });
});
