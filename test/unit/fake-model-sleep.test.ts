// The fake model server's sleep/wake APIs (vLLM sleep mode, tabbyAPI load/unload, the generic
// /fake/sleep API), its failure switches and its control-call log: each test runs its own
// server.js child process on a random port.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const serverJs = fileURLToPath(new URL('../fixtures/fake-model/server.js', import.meta.url));
const children = new Set<ChildProcess>();
after(() => children.forEach((c) => c.kill('SIGKILL')));

interface Fake {
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  chat(): Promise<{ status: number; content: string; body: any }>;
  json(path: string): Promise<any>;
  stop(): void;
}

/** Starts server.js with `env` (short delays by default) and `args`; resolves once it listens. */
async function startFake(env: Record<string, string> = {}, args: string[] = []): Promise<Fake> {
  const child = spawn(process.execPath, [serverJs, ...args], {
    env: { FAKE_PORT: '0', FAKE_HOST: '127.0.0.1', FAKE_SLEEP_DELAY_MS: '20', FAKE_WAKE_DELAY_MS: '50', FAKE_RELOAD_DELAY_MS: '30', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`fake model exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`fake model did not listen within 5 s:\n${out}`)), 5000).unref();
  });
  child.stdout!.resume();
  child.stderr!.resume();
  const url = `http://127.0.0.1:${port}`;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(url + path, { headers });
  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url + path, {
      method: 'POST',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    url, get, post,
    async chat() {
      const res = await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      const body: any = await res.json();
      return { status: res.status, content: body.choices?.[0]?.message?.content ?? '', body };
    },
    json: async (path: string): Promise<any> => (await get(path)).json(),
    stop: () => child.kill('SIGKILL'),
  };
}

const VLLM_ENV = { VLLM_SERVER_DEV_MODE: '1' };
const VLLM_ARGS = ['--model', 'x', '--enable-sleep-mode'];
const NORMAL = 'Hello from fake-model (model=m)';

async function expectStatus(res: Promise<Response>, status: number): Promise<string> {
  const r = await res;
  const text = await r.text();
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${text}`);
  return text;
}

/** The `data:` events of an SSE body, parsed. */
function sseEvents(text: string): any[] {
  return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
}

describe('vLLM sleep mode', () => {
  test('the sleep routes are 404 without VLLM_SERVER_DEV_MODE=1 or without --enable-sleep-mode', async () => {
    for (const [env, args] of [[{}, VLLM_ARGS], [VLLM_ENV, ['--model', 'x']], [{ VLLM_SERVER_DEV_MODE: '0' }, VLLM_ARGS]] as const) {
      const f = await startFake(env, [...args]);
      try {
        await expectStatus(f.post('/sleep?level=1'), 404);
        await expectStatus(f.post('/wake_up'), 404);
        await expectStatus(f.get('/is_sleeping'), 404);
        await expectStatus(f.post('/collective_rpc', { method: 'reload_weights' }), 404);
        await expectStatus(f.post('/reset_prefix_cache'), 404);
        assert.equal((await f.chat()).content, NORMAL);
        assert.deepEqual(await f.json('/fake/control-calls'), []);
      } finally {
        f.stop();
      }
    }
  });

  test('level 1: inference answers 500 while asleep (nothing served), a plain wake_up restores normal answers', async () => {
    const f = await startFake(VLLM_ENV, VLLM_ARGS);
    try {
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      // A JSON body is ignored: the level is a query parameter (default 1).
      assert.equal(await expectStatus(f.post('/sleep', { level: 2 }), 200), '');
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
      const asleep = await f.chat();
      assert.equal(asleep.status, 500);
      assert.match(asleep.body.error.message, /engine is sleeping/);
      await expectStatus(f.post('/v1/completions', { prompt: 'x' }), 500);
      await expectStatus(f.post('/v1/embeddings', { input: 'x' }), 500);
      await expectStatus(f.post('/v1/messages', { messages: [] }), 500);
      await expectStatus(f.get('/health'), 200);
      await expectStatus(f.get('/v1/models'), 200);
      assert.equal((await f.json('/fake/requests')).whileAsleep, 4);

      assert.equal(await expectStatus(f.post('/wake_up'), 200), '');
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      assert.deepEqual(await f.chat().then((c) => [c.status, c.content]), [200, NORMAL]);
      assert.equal((await f.json('/fake/requests')).whileAsleep, 4);
    } finally {
      f.stop();
    }
  });

  test('level 2 with the correct sequence answers normally; kv_cache still asleep means 500', async () => {
    const f = await startFake({ ...VLLM_ENV, FAKE_ALLOCATE_MB: '1' }, VLLM_ARGS);
    try {
      await expectStatus(f.post('/sleep?level=2'), 200);
      await expectStatus(f.post('/wake_up?tags=weights'), 200);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
      assert.equal((await f.chat()).status, 500); // partially awake
      // Waking weights that are awake already is a no-op, as in vLLM.
      await expectStatus(f.post('/wake_up?tags=weights'), 200);
      const rpc = await f.post('/collective_rpc', { method: 'reload_weights' });
      assert.equal(rpc.status, 200);
      assert.deepEqual(await rpc.json(), { results: [null] });
      await expectStatus(f.post('/wake_up?tags=kv_cache'), 200);
      await expectStatus(f.post('/reset_prefix_cache'), 200);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      assert.deepEqual(await f.chat().then((c) => [c.status, c.content]), [200, NORMAL]);
      assert.equal((await f.json('/fake/requests')).whileAsleep, 1);
    } finally {
      f.stop();
    }
  });

  test('level 2 with a plain wake_up leaves garbage weights until reload_weights', async () => {
    const f = await startFake(VLLM_ENV, VLLM_ARGS);
    try {
      await expectStatus(f.post('/sleep?level=2'), 200);
      // reload_weights while the weights sleep is refused.
      await expectStatus(f.post('/collective_rpc', { method: 'reload_weights' }), 500);
      await expectStatus(f.post('/wake_up'), 200);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      assert.deepEqual(await f.chat().then((c) => [c.status, c.content]), [200, '<garbage weights>']);
      const completion: any = await (await f.post('/v1/completions', { prompt: 'x' })).json();
      assert.equal(completion.choices[0].text, '<garbage weights>');
      await expectStatus(f.post('/collective_rpc', { method: 'reload_weights' }), 200);
      assert.equal((await f.chat()).content, NORMAL);
    } finally {
      f.stop();
    }
  });

  test('bad input: unknown level 400, unknown tag 400, collective_rpc without method 400', async () => {
    const f = await startFake(VLLM_ENV, VLLM_ARGS);
    try {
      await expectStatus(f.post('/sleep?level=3'), 400);
      await expectStatus(f.post('/sleep'), 200);
      await expectStatus(f.post('/wake_up?tags=weight'), 400);
      await expectStatus(f.post('/collective_rpc', {}), 400);
      await expectStatus(f.get('/sleep'), 405);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
    } finally {
      f.stop();
    }
  });
});

describe('tabbyAPI load/unload', () => {
  const KEY = 'admin-secret';
  const TABBY_ENV = { FAKE_TABBY: '1', FAKE_ADMIN_KEY: KEY, FAKE_MODEL_NAME: 'served', FAKE_WAKE_DELAY_MS: '80' };

  test('unload without the key is 401; unload with it makes inference 503 and GET /v1/model 400', async () => {
    const f = await startFake(TABBY_ENV);
    try {
      assert.equal((await f.json('/v1/model')).id, 'served');
      await expectStatus(f.post('/v1/model/unload'), 401);
      await expectStatus(f.post('/v1/model/unload', undefined, { 'x-admin-key': 'wrong' }), 401);
      await expectStatus(f.post('/v1/model/load', { model_name: 'x' }, { authorization: 'Bearer wrong' }), 401);
      assert.equal((await f.chat()).content, NORMAL);

      assert.equal(await expectStatus(f.post('/v1/model/unload', undefined, { 'x-admin-key': KEY }), 200), '');
      const chat = await f.chat();
      assert.equal(chat.status, 503);
      assert.match(chat.body.error.message, /no model loaded/i);
      const model = await f.get('/v1/model');
      assert.equal(model.status, 400);
      assert.match(((await model.json()) as any).error.message, /No models are currently loaded/);
      await expectStatus(f.post('/v1/model/unload', undefined, { 'x-admin-key': KEY }), 400); // nothing to unload
      await expectStatus(f.get('/v1/models'), 200);
      const stats = await f.json('/fake/requests');
      assert.equal(stats.whileAsleep, 1);
      assert.equal(stats.count, 3, 'the admin routes are not counted as /v1/* requests');
    } finally {
      f.stop();
    }
  });

  test('load streams progress events over FAKE_WAKE_DELAY_MS, then finished, and the model is loaded', async () => {
    const f = await startFake(TABBY_ENV);
    try {
      await expectStatus(f.post('/v1/model/unload', undefined, { authorization: `Bearer ${KEY}` }), 200);
      await expectStatus(f.post('/v1/model/load', {}, { 'x-admin-key': KEY }), 400);
      const t0 = Date.now();
      const res = await f.post('/v1/model/load', { model_name: 'other-model', max_seq_len: 4096 }, { 'x-admin-key': KEY });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const events = sseEvents(await res.text());
      assert.ok(Date.now() - t0 >= 70, `the load took ${Date.now() - t0} ms`);
      assert.deepEqual(events, [
        ...[1, 2, 3, 4].map((module) => ({ model_type: 'model', module, modules: 4, status: 'processing' })),
        { model_type: 'model', module: 4, modules: 4, status: 'finished' },
      ]);
      assert.equal((await f.json('/v1/model')).id, 'other-model');
      assert.deepEqual(await f.chat().then((c) => [c.status, c.content]), [200, NORMAL]);
    } finally {
      f.stop();
    }
  });

  test('FAKE_LOAD_FAIL=1: the stream ends without finished and nothing is loaded', async () => {
    const f = await startFake({ ...TABBY_ENV, FAKE_LOAD_FAIL: '1' });
    try {
      const res = await f.post('/v1/model/load', { model_name: 'other-model' }, { 'x-admin-key': KEY });
      assert.equal(res.status, 200);
      const events = sseEvents(await res.text());
      assert.ok(events.length > 0);
      assert.ok(events.every((e) => e.status === 'processing'), JSON.stringify(events));
      assert.equal((await f.get('/v1/model')).status, 400);
      assert.equal((await f.chat()).status, 503);
    } finally {
      f.stop();
    }
  });

  test('without FAKE_TABBY the admin routes are 404', async () => {
    const f = await startFake({ FAKE_ADMIN_KEY: KEY });
    try {
      await expectStatus(f.get('/v1/model'), 404);
      await expectStatus(f.post('/v1/model/unload', undefined, { 'x-admin-key': KEY }), 404);
      await expectStatus(f.post('/v1/model/load', { model_name: 'x' }, { 'x-admin-key': KEY }), 404);
    } finally {
      f.stop();
    }
  });
});

describe('generic http sleep API', () => {
  test('/fake/sleep, /fake/asleep, /fake/wake', async () => {
    const f = await startFake({ FAKE_HTTP_SLEEP: '1' });
    try {
      assert.deepEqual(await f.json('/fake/asleep'), { asleep: false });
      assert.deepEqual(await (await f.post('/fake/sleep')).json(), { asleep: true });
      assert.deepEqual(await f.json('/fake/asleep'), { asleep: true });
      const chat = await f.chat();
      assert.equal(chat.status, 500);
      assert.match(chat.body.error.message, /engine is sleeping/);
      await expectStatus(f.get('/health'), 200);
      assert.deepEqual(await (await f.post('/fake/wake')).json(), { asleep: false });
      assert.equal((await f.chat()).content, NORMAL);
      assert.equal((await f.json('/fake/requests')).whileAsleep, 1);
    } finally {
      f.stop();
    }
  });

  test('the generic routes are 404 without FAKE_HTTP_SLEEP=1', async () => {
    const f = await startFake();
    try {
      await expectStatus(f.post('/fake/sleep'), 404);
      await expectStatus(f.post('/fake/wake'), 404);
      await expectStatus(f.get('/fake/asleep'), 404);
    } finally {
      f.stop();
    }
  });
});

describe('failure switches', () => {
  test('FAKE_SLEEP_FAIL=1: every sleep call is a 500 and the model stays awake', async () => {
    const f = await startFake({ ...VLLM_ENV, FAKE_TABBY: '1', FAKE_HTTP_SLEEP: '1', FAKE_SLEEP_FAIL: '1' }, VLLM_ARGS);
    try {
      await expectStatus(f.post('/sleep?level=1'), 500);
      await expectStatus(f.post('/fake/sleep'), 500);
      await expectStatus(f.post('/v1/model/unload'), 500);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      assert.deepEqual(await f.json('/fake/asleep'), { asleep: false });
      assert.equal((await f.json('/v1/model')).id, 'fake-model');
      assert.equal((await f.chat()).status, 200);
    } finally {
      f.stop();
    }
  });

  test('FAKE_WAKE_FAIL=1: every wake call is a 500 (a load before any SSE) and the model stays asleep', async () => {
    const f = await startFake({ ...VLLM_ENV, FAKE_TABBY: '1', FAKE_HTTP_SLEEP: '1', FAKE_WAKE_FAIL: '1' }, VLLM_ARGS);
    try {
      await expectStatus(f.post('/sleep?level=1'), 200);
      await expectStatus(f.post('/wake_up'), 500);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
      await expectStatus(f.post('/fake/sleep'), 200);
      await expectStatus(f.post('/fake/wake'), 500);
      assert.deepEqual(await f.json('/fake/asleep'), { asleep: true });
      await expectStatus(f.post('/v1/model/unload'), 200);
      const load = await f.post('/v1/model/load', { model_name: 'x' });
      assert.equal(load.status, 500);
      assert.match(load.headers.get('content-type') ?? '', /application\/json/);
      await load.text();
      assert.equal((await f.get('/v1/model')).status, 400);
      assert.equal((await f.chat()).status, 500);
    } finally {
      f.stop();
    }
  });

  test('fail-next-sleep / fail-next-wake fail exactly the next call; hang-next-sleep never answers it', async () => {
    const f = await startFake({ ...VLLM_ENV, FAKE_TABBY: '1' }, VLLM_ARGS);
    try {
      await expectStatus(f.post('/fake/fail-next-sleep'), 200);
      await expectStatus(f.post('/sleep'), 500);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      await expectStatus(f.post('/sleep'), 200);
      await expectStatus(f.post('/fake/fail-next-wake'), 200);
      await expectStatus(f.post('/wake_up'), 500);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
      await expectStatus(f.post('/wake_up'), 200);
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });

      // The toggles count across APIs: a tabby unload is a sleep call too.
      await expectStatus(f.post('/fake/fail-next-sleep'), 200);
      await expectStatus(f.post('/v1/model/unload'), 500);
      assert.equal((await f.json('/v1/model')).id, 'fake-model');

      await expectStatus(f.post('/fake/hang-next-sleep'), 200);
      await assert.rejects(
        fetch(`${f.url}/sleep?level=1`, { method: 'POST', signal: AbortSignal.timeout(300) }),
        (err: Error) => err.name === 'TimeoutError',
      );
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: false });
      assert.equal((await f.chat()).status, 200);
      await expectStatus(f.post('/sleep'), 200); // only the next one hangs
      assert.deepEqual(await f.json('/is_sleeping'), { is_sleeping: true });
    } finally {
      f.stop();
    }
  });
});

test('control-calls records the control calls in order (with query and body); DELETE clears it', async () => {
  const f = await startFake({ ...VLLM_ENV, FAKE_HTTP_SLEEP: '1' }, VLLM_ARGS);
  try {
    const t0 = Date.now();
    await expectStatus(f.post('/sleep?level=2'), 200);
    await expectStatus(f.get('/is_sleeping'), 200); // a query, not a control call
    await expectStatus(f.post('/wake_up?tags=weights'), 200);
    await expectStatus(f.post('/collective_rpc', { method: 'reload_weights' }), 200);
    await expectStatus(f.post('/wake_up?tags=kv_cache'), 200);
    await expectStatus(f.post('/reset_prefix_cache'), 200);
    await expectStatus(f.post('/fake/sleep'), 200);
    await expectStatus(f.post('/fake/wake'), 200);
    const calls: Array<{ method: string; path: string; query: string; at: number; body?: unknown }> = await f.json('/fake/control-calls');
    assert.deepEqual(calls.map(({ at, ...c }) => c), [
      { method: 'POST', path: '/sleep', query: 'level=2' },
      { method: 'POST', path: '/wake_up', query: 'tags=weights' },
      { method: 'POST', path: '/collective_rpc', query: '', body: { method: 'reload_weights' } },
      { method: 'POST', path: '/wake_up', query: 'tags=kv_cache' },
      { method: 'POST', path: '/reset_prefix_cache', query: '' },
      { method: 'POST', path: '/fake/sleep', query: '' },
      { method: 'POST', path: '/fake/wake', query: '' },
    ]);
    const ats = calls.map((c) => c.at);
    assert.deepEqual(ats, [...ats].sort((a, b) => a - b));
    assert.ok(ats[0]! >= t0 - 5 && ats.at(-1)! <= Date.now());
    assert.equal((await f.chat()).content, NORMAL);
    assert.equal((await f.json('/fake/requests')).whileAsleep, 0);

    await expectStatus(fetch(`${f.url}/fake/control-calls`, { method: 'DELETE' }), 200);
    assert.deepEqual(await f.json('/fake/control-calls'), []);
  } finally {
    f.stop();
  }
});
