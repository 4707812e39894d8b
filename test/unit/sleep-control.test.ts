// The sleep clients (src/scheduler/backends) against scripted model servers: the exact calls of
// each kind, their failures as SleepCallError, the timeout, the caller's abort, and control paths.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/runtime/container-runtime.js';
import type { SleepConfig } from '../../src/config/schema.js';
import {
  isControlPath,
  sleepControlFor,
  SleepCallError,
  TABBYAPI_CONTROL_PATHS,
  VLLM_CONTROL_PATHS,
  type SleepPhase,
} from '../../src/scheduler/backends/sleep-control.js';

// A scripted model server: every call is recorded, and `handle` answers it (or never does).
interface Call {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}
type Handle = (call: Call, res: ServerResponse) => void;

async function withServer(handle: Handle, fn: (endpoint: Endpoint, calls: Call[]) => Promise<void>): Promise<void> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString(), headers: req.headers };
      calls.push(call);
      handle(call, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, calls);
  } finally {
    // The clients leave no connection open: the server closes without being forced.
    const closed = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1_000)));
    const inTime = await Promise.race([closed, late]);
    clearTimeout(timer);
    server.closeAllConnections();
    assert.equal(inTime, true, 'a connection to the model server was left open');
  }
}

function answer(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

const never: Handle = () => {}; // a server that never answers

function config(overrides: Partial<SleepConfig>): SleepConfig {
  return { kind: 'vllm', level: 1, memoryBytes: 0, vramBytes: 0, ttlMs: 60_000, timeoutMs: 2_000, ...overrides };
}

/** Asserts a SleepCallError of this phase whose message contains every fragment. */
function failsWith(phase: SleepPhase, ...fragments: (string | RegExp)[]) {
  return (err: unknown) => {
    assert.ok(err instanceof SleepCallError, `expected a SleepCallError, got ${String(err)}`);
    assert.equal(err.phase, phase);
    for (const fragment of fragments) {
      if (typeof fragment === 'string') assert.ok(err.message.includes(fragment), `'${fragment}' missing from: ${err.message}`);
      else assert.match(err.message, fragment);
    }
    return true;
  };
}

const seen = (calls: Call[]) => calls.map((call) => `${call.method} ${call.url}`);

/** A vLLM in sleep mode: /sleep and /wake_up change what /is_sleeping says. */
function fakeVllm(overrides: Record<string, (res: ServerResponse) => void> = {}): Handle {
  let sleeping = false;
  const awake = new Set<string>();
  return (call, res) => {
    const override = overrides[`${call.method} ${call.url}`];
    if (override) return override(res);
    const url = new URL(call.url, 'http://x');
    if (call.method === 'POST' && url.pathname === '/sleep') {
      sleeping = true;
      awake.clear();
      return answer(res, 200);
    }
    if (call.method === 'POST' && url.pathname === '/wake_up') {
      const tags = url.searchParams.getAll('tags');
      for (const tag of tags.length ? tags : ['weights', 'kv_cache']) awake.add(tag);
      if (awake.has('weights') && awake.has('kv_cache')) sleeping = false;
      return answer(res, 200);
    }
    if (call.method === 'GET' && url.pathname === '/is_sleeping') return answer(res, 200, { is_sleeping: sleeping });
    if (call.method === 'POST' && (url.pathname === '/collective_rpc' || url.pathname === '/reset_prefix_cache')) return answer(res, 200);
    answer(res, 404, { detail: 'Not Found' });
  };
}

describe('vLLM sleep mode', () => {
  it('sleeps at level 1 with the level as a query parameter, then checks /is_sleeping; wakes with /wake_up', async () => {
    await withServer(fakeVllm(), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'vllm', level: 1 }));
      await control.sleep(endpoint);
      assert.deepEqual(seen(calls), ['POST /sleep?level=1', 'GET /is_sleeping']);
      assert.equal(calls[0]!.body, '', 'vLLM ignores a body: the level goes in the query');
      assert.equal(await control.isAsleep(endpoint), true);
      calls.length = 0;
      await control.wake(endpoint);
      assert.deepEqual(seen(calls), ['POST /wake_up', 'GET /is_sleeping']);
      assert.equal(await control.isAsleep(endpoint), false);
    });
  });

  it('wakes from level 2 by reallocating the weights, reloading them, then the KV cache, then resetting the prefix cache', async () => {
    await withServer(fakeVllm(), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'vllm', level: 2 }));
      await control.sleep(endpoint);
      assert.deepEqual(seen(calls), ['POST /sleep?level=2', 'GET /is_sleeping']);
      calls.length = 0;
      await control.wake(endpoint);
      assert.deepEqual(seen(calls), [
        'POST /wake_up?tags=weights',
        'POST /collective_rpc',
        'POST /wake_up?tags=kv_cache',
        'POST /reset_prefix_cache',
        'GET /is_sleeping',
      ]);
      assert.deepEqual(JSON.parse(calls[1]!.body), { method: 'reload_weights' });
      assert.equal(calls[1]!.headers['content-type'], 'application/json');
    });
  });

  it('still wakes when resetting the prefix cache fails', async () => {
    await withServer(fakeVllm({ 'POST /reset_prefix_cache': (res) => answer(res, 500, 'busy') }), async (endpoint) => {
      const control = sleepControlFor(config({ kind: 'vllm', level: 2 }));
      await control.sleep(endpoint);
      await control.wake(endpoint);
      assert.equal(await control.isAsleep(endpoint), false);
    });
  });

  it('fails a sleep that answers an error, saying which call on which address, the status and the start of the body', async () => {
    const body = 'x'.repeat(199) + 'YZ' + 'z'.repeat(100);
    await withServer(fakeVllm({ 'POST /sleep?level=1': (res) => answer(res, 500, body) }), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'vllm' }));
      await assert.rejects(control.sleep(endpoint), (err) => {
        failsWith('sleep', 'vLLM sleep call POST /sleep?level=1', `127.0.0.1:${endpoint.port}`, 'HTTP 500', 'x'.repeat(199) + 'Y')(err);
        assert.ok(!(err as Error).message.includes('YZ'), 'only the first 200 characters of the body');
        assert.equal((err as SleepCallError).statusCode, 500);
        assert.equal((err as SleepCallError).status, 503);
        return true;
      });
      assert.deepEqual(seen(calls), ['POST /sleep?level=1'], 'nothing is checked after a failed call');
    });
  });

  it('points at dev mode when the sleep routes are missing', async () => {
    await withServer((_call, res) => answer(res, 404, { detail: 'Not Found' }), async (endpoint) => {
      await assert.rejects(sleepControlFor(config({ kind: 'vllm' })).sleep(endpoint), failsWith('sleep', 'HTTP 404', 'VLLM_SERVER_DEV_MODE=1', '--enable-sleep-mode'));
    });
  });

  it('fails a sleep that answers 200 but leaves the server awake', async () => {
    await withServer(fakeVllm({ 'POST /sleep?level=1': (res) => answer(res, 200) }), async (endpoint) => {
      await assert.rejects(sleepControlFor(config({ kind: 'vllm' })).sleep(endpoint), failsWith('sleep', 'GET /is_sleeping', '"is_sleeping": false'));
    });
  });

  it('fails a level-2 wake at the call that fails, and makes no further call', async () => {
    await withServer(fakeVllm({ 'POST /collective_rpc': (res) => answer(res, 500, { error: 'reload failed' }) }), async (endpoint, calls) => {
      await assert.rejects(
        sleepControlFor(config({ kind: 'vllm', level: 2 })).wake(endpoint),
        failsWith('wake', 'vLLM wake call POST /collective_rpc', 'HTTP 500', 'reload failed'),
      );
      assert.deepEqual(seen(calls), ['POST /wake_up?tags=weights', 'POST /collective_rpc']);
    });
  });

  it('fails a wake after which the server still sleeps', async () => {
    await withServer((call, res) => (call.url === '/is_sleeping' ? answer(res, 200, { is_sleeping: true }) : answer(res, 200)), async (endpoint) => {
      await assert.rejects(sleepControlFor(config({ kind: 'vllm' })).wake(endpoint), failsWith('wake', '"is_sleeping": true'));
    });
  });

  it('tells whether it sleeps, and fails the status call on an answer it cannot read', async () => {
    let body: unknown = { is_sleeping: true };
    await withServer((_call, res) => answer(res, 200, body), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'vllm' }));
      assert.equal(await control.isAsleep(endpoint), true);
      body = { is_sleeping: false };
      assert.equal(await control.isAsleep(endpoint), false);
      body = { sleeping: 'yes' };
      await assert.rejects(control.isAsleep(endpoint), failsWith('status', 'GET /is_sleeping', 'is not {"is_sleeping": true|false}', 'sleeping'));
      assert.deepEqual(seen(calls), ['GET /is_sleeping', 'GET /is_sleeping', 'GET /is_sleeping']);
    });
  });
});

/** A tabbyAPI whose load answers these SSE lines (and keeps the stream open when `open`). */
function fakeTabby(opts: { load?: (res: ServerResponse) => void; loaded?: boolean; unloadStatus?: number } = {}) {
  const state = { loaded: opts.loaded ?? true };
  const handle: Handle = (call, res) => {
    if (call.method === 'POST' && call.url === '/v1/model/unload') {
      if (!state.loaded) return answer(res, opts.unloadStatus ?? 400, { detail: 'No models are currently loaded.' });
      state.loaded = false;
      return answer(res, 200);
    }
    if (call.method === 'GET' && call.url === '/v1/model') {
      return state.loaded ? answer(res, 200, { id: 'Qwen3-8B-exl3', object: 'model' }) : answer(res, 400, { detail: 'No models are currently loaded.' });
    }
    if (call.method === 'POST' && call.url === '/v1/model/load') {
      if (opts.load) return opts.load(res);
      state.loaded = true;
      return sse(res, [progress('model', 1, 2, 'processing'), progress('model', 2, 2, 'processing'), progress('model', 2, 2, 'finished')]);
    }
    answer(res, 404);
  };
  return { handle, state };
}

function progress(modelType: string, module: number, modules: number, status: string) {
  return { model_type: modelType, module, modules, status };
}

function sse(res: ServerResponse, events: unknown[], keepOpen = false): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
  if (!keepOpen) res.end();
}

const LOAD = { model_name: 'Qwen3-8B-exl3', max_seq_len: 16384, cache_mode: 'Q8' };

describe('tabbyAPI unload and load', () => {
  it('sleeps by unloading with the admin key, then checks that no model is loaded', async () => {
    const tabby = fakeTabby();
    await withServer(tabby.handle, async (endpoint, calls) => {
      await sleepControlFor(config({ kind: 'tabbyapi', adminKey: 'admin-secret', load: LOAD })).sleep(endpoint);
      assert.deepEqual(seen(calls), ['POST /v1/model/unload', 'GET /v1/model']);
      assert.equal(calls[0]!.headers['x-admin-key'], 'admin-secret');
      assert.equal(calls[1]!.headers['x-api-key'], 'admin-secret', 'GET /v1/model takes an API key; the admin key is one');
      assert.equal(tabby.state.loaded, false);
    });
  });

  it('treats an unload refused because nothing is loaded as asleep', async () => {
    await withServer(fakeTabby({ loaded: false }).handle, async (endpoint) => {
      await sleepControlFor(config({ kind: 'tabbyapi', load: LOAD })).sleep(endpoint);
    });
  });

  it('wakes by loading with the configured body and reading the progress stream to the finished main model', async () => {
    const tabby = fakeTabby({ loaded: false });
    await withServer(tabby.handle, async (endpoint, calls) => {
      await sleepControlFor(config({ kind: 'tabbyapi', adminKey: 'admin-secret', load: LOAD })).wake(endpoint);
      assert.deepEqual(seen(calls), ['POST /v1/model/load']);
      assert.deepEqual(JSON.parse(calls[0]!.body), LOAD);
      assert.equal(calls[0]!.headers['x-admin-key'], 'admin-secret');
      assert.equal(calls[0]!.headers['content-type'], 'application/json');
    });
  });

  it('waits past a finished draft model, and stops reading once the main model has finished', async () => {
    const events = [progress('draft', 1, 1, 'finished'), progress('model', 1, 1, 'processing'), progress('model', 1, 1, 'finished')];
    let drafted = 0;
    await withServer(fakeTabby({ load: (res) => sse(res, events.slice(0, ++drafted === 1 ? 1 : 3), true) }).handle, async (endpoint) => {
      const control = sleepControlFor(config({ kind: 'tabbyapi', load: LOAD, timeoutMs: 300 }));
      await assert.rejects(control.wake(endpoint), failsWith('wake', 'timed out after 300 ms'), 'a finished draft is not the model');
      await control.wake(endpoint); // the stream stays open after "finished": the wake must not wait for its end
    });
  });

  it('fails a wake whose progress stream ends before the model finished', async () => {
    const load = (res: ServerResponse) => sse(res, [progress('model', 1, 3, 'processing')]);
    await withServer(fakeTabby({ load }).handle, async (endpoint) => {
      await assert.rejects(
        sleepControlFor(config({ kind: 'tabbyapi', load: LOAD })).wake(endpoint),
        failsWith('wake', 'tabbyAPI wake call POST /v1/model/load', 'ended before the model finished loading', '"module":1'),
      );
    });
  });

  it('fails a wake whose stream reports an error', async () => {
    const load = (res: ServerResponse) => sse(res, [progress('model', 1, 3, 'processing'), { error: { message: 'CUDA out of memory', trace: null } }], true);
    await withServer(fakeTabby({ load }).handle, async (endpoint) => {
      await assert.rejects(sleepControlFor(config({ kind: 'tabbyapi', load: LOAD })).wake(endpoint), failsWith('wake', 'the load reported an error: CUDA out of memory'));
    });
  });

  it('fails a wake refused for its key (401) or its body (400), with what to check', async () => {
    let status = 401;
    await withServer((_call, res) => answer(res, status, { detail: status === 401 ? 'Invalid admin key' : 'Could not find the model path for load.' }), async (endpoint) => {
      const control = sleepControlFor(config({ kind: 'tabbyapi', adminKey: 'wrong', load: LOAD }));
      await assert.rejects(control.wake(endpoint), (err) => {
        failsWith('wake', 'HTTP 401', 'Invalid admin key', 'sleep.adminKey')(err);
        assert.equal((err as SleepCallError).statusCode, 401);
        return true;
      });
      status = 400;
      await assert.rejects(control.wake(endpoint), failsWith('wake', 'HTTP 400', 'Could not find the model path', 'sleep.load'));
    });
  });

  it('tells whether a model is loaded: asleep on an error answer or an answer without a model id; a refused key is an error', async () => {
    let reply: [number, unknown] = [200, { id: 'Qwen3-8B-exl3' }];
    await withServer((_call, res) => answer(res, ...reply), async (endpoint) => {
      const control = sleepControlFor(config({ kind: 'tabbyapi', adminKey: 'k', load: LOAD }));
      assert.equal(await control.isAsleep(endpoint), false);
      reply = [400, { detail: 'No models are currently loaded.' }];
      assert.equal(await control.isAsleep(endpoint), true);
      reply = [503, { detail: 'No models are currently loaded.' }];
      assert.equal(await control.isAsleep(endpoint), true);
      reply = [200, { object: 'model' }];
      assert.equal(await control.isAsleep(endpoint), true);
      reply = [401, { detail: 'Invalid API key' }];
      await assert.rejects(control.isAsleep(endpoint), failsWith('status', 'GET /v1/model', 'HTTP 401', 'sleep.adminKey'));
    });
  });
});

describe('a server with its own HTTP sleep calls', () => {
  const calls3 = {
    sleepRequest: { method: 'post', path: '/admin/sleep?deep=1' },
    wakeRequest: { method: 'PUT', path: '/admin/wake' },
    statusRequest: { method: 'GET', path: '/admin/state' },
  };

  it('reads each form of status answer', async () => {
    const forms: [string, boolean][] = [['true', true], ['false', false], ['{"asleep":true}', true], ['{"asleep":false}', false], ['{"is_sleeping":true}', true], ['{"is_sleeping":false,"x":1}', false]];
    let body = '';
    await withServer((_call, res) => answer(res, 200, body), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'http', ...calls3 }));
      for (const [text, asleep] of forms) {
        body = text;
        assert.equal(await control.isAsleep(endpoint), asleep, text);
      }
      assert.ok(calls.every((call) => call.method === 'GET' && call.url === '/admin/state'));
      body = '{"state":"sleeping"}';
      await assert.rejects(control.isAsleep(endpoint), failsWith('status', 'HTTP status call GET /admin/state', 'neither JSON true/false', 'sleeping'));
    });
  });

  it('sleeps and wakes with the configured calls, checked with the status call', async () => {
    let asleep = false;
    const handle: Handle = (call, res) => {
      if (call.url === '/admin/sleep?deep=1') asleep = true;
      if (call.url === '/admin/wake') asleep = false;
      answer(res, 200, call.url === '/admin/state' ? { asleep } : undefined);
    };
    await withServer(handle, async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'http', ...calls3 }));
      await control.sleep(endpoint);
      await control.wake(endpoint);
      assert.deepEqual(seen(calls), ['POST /admin/sleep?deep=1', 'GET /admin/state', 'PUT /admin/wake', 'GET /admin/state']);
    });
  });

  it('fails a sleep that the status call contradicts, and a call that is not 2xx', async () => {
    let sleepStatus = 200;
    await withServer((call, res) => answer(res, call.url === '/admin/state' ? 200 : sleepStatus, call.url === '/admin/state' ? 'false' : 'nope'), async (endpoint) => {
      const control = sleepControlFor(config({ kind: 'http', ...calls3 }));
      await assert.rejects(control.sleep(endpoint), failsWith('sleep', 'GET /admin/state', 'says awake', 'POST /admin/sleep?deep=1 answered 2xx'));
      sleepStatus = 409;
      await assert.rejects(control.sleep(endpoint), failsWith('sleep', 'POST /admin/sleep?deep=1', 'HTTP 409', 'nope'));
    });
  });

  it('without a status call, takes the server at its word and cannot tell whether it sleeps', async () => {
    await withServer((_call, res) => answer(res, 204), async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'http', sleepRequest: calls3.sleepRequest, wakeRequest: calls3.wakeRequest }));
      await control.sleep(endpoint);
      await control.wake(endpoint);
      assert.equal(await control.isAsleep(endpoint), undefined);
      assert.deepEqual(seen(calls), ['POST /admin/sleep?deep=1', 'PUT /admin/wake']);
    });
  });

  it('refuses a config without its sleep and wake calls', () => {
    assert.throws(() => sleepControlFor(config({ kind: 'http', wakeRequest: calls3.wakeRequest })), /sleepRequest and sleep.wakeRequest/);
  });
});

describe('timeouts and cancellation', () => {
  it('fails a call that gets no answer within timeoutMs', async () => {
    await withServer(never, async (endpoint) => {
      const started = Date.now();
      await assert.rejects(sleepControlFor(config({ kind: 'vllm', timeoutMs: 200 })).sleep(endpoint), (err) => {
        failsWith('sleep', 'POST /sleep?level=1', 'timed out after 200 ms')(err);
        assert.equal((err as SleepCallError).timedOut, true);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 190 && took < 1_500, `took ${took} ms`);
    });
  });

  it('bounds the whole operation, not each call', async () => {
    const slow: Handle = (call, res) => void setTimeout(() => fakeVllmAwake(call, res), 120);
    await withServer(slow, async (endpoint, calls) => {
      await assert.rejects(sleepControlFor(config({ kind: 'vllm', level: 2, timeoutMs: 200 })).wake(endpoint), failsWith('wake', 'POST /collective_rpc', 'timed out after 200 ms'));
      assert.deepEqual(seen(calls), ['POST /wake_up?tags=weights', 'POST /collective_rpc']);
    });
  });

  it("rejects with the caller's reason when the caller aborts, before or during a call", async () => {
    await withServer(never, async (endpoint, calls) => {
      const control = sleepControlFor(config({ kind: 'tabbyapi', load: LOAD, timeoutMs: 5_000 }));
      const reason = new Error('the request left');
      await assert.rejects(control.wake(endpoint, AbortSignal.abort(reason)), (err) => err === reason);
      assert.equal(calls.length, 0, 'an aborted signal makes no call');
      const controller = new AbortController();
      const waking = control.wake(endpoint, controller.signal);
      setTimeout(() => controller.abort(reason), 50);
      const started = Date.now();
      await assert.rejects(waking, (err) => err === reason);
      assert.ok(Date.now() - started < 1_000);
    });
  });

  it('fails with the network error when nothing listens', async () => {
    const port = await freePort();
    await assert.rejects(sleepControlFor(config({ kind: 'vllm' })).isAsleep({ host: '127.0.0.1', port }), failsWith('status', `GET /is_sleeping to 127.0.0.1:${port}`, 'ECONNREFUSED'));
  });
});

describe('control paths', () => {
  it("lists each kind's control routes", () => {
    const vllm = sleepControlFor(config({ kind: 'vllm' })).controlPaths;
    assert.equal(vllm, VLLM_CONTROL_PATHS);
    for (const path of ['/sleep', '/wake_up', '/is_sleeping', '/collective_rpc', '/reset_prefix_cache', '/reset_mm_cache', '/server_info', '/pause', '/resume', '/scale_elastic_ep', '/is_scaling_elastic_ep']) {
      assert.ok(vllm.includes(path), path);
    }
    const tabby = sleepControlFor(config({ kind: 'tabbyapi', load: LOAD })).controlPaths;
    assert.equal(tabby, TABBYAPI_CONTROL_PATHS);
    for (const path of ['/v1/model/load', '/v1/model/unload', '/v1/lora/load', '/v1/lora/unload', '/v1/template/switch', '/v1/sampling/override/switch', '/v1/download']) {
      assert.ok(tabby.includes(path), path);
    }
    const http = sleepControlFor(config({
      kind: 'http',
      sleepRequest: { method: 'POST', path: '/admin/sleep?deep=1' },
      wakeRequest: { method: 'POST', path: '/admin/wake' },
      statusRequest: { method: 'GET', path: '/admin/sleep' },
    })).controlPaths;
    assert.deepEqual(http, ['/admin/sleep', '/admin/wake']);
    assert.deepEqual(sleepControlFor(config({ kind: 'http', sleepRequest: { method: 'POST', path: '/s' }, wakeRequest: { method: 'POST', path: '/w' } })).controlPaths, ['/s', '/w']);
  });

  it('matches a control path, the paths below it and any case, never a longer name', () => {
    assert.equal(isControlPath('/sleep', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/sleep?level=2', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/SLEEP', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/pause/step', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/v1/load_lora_adapter', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/v1/chat/completions', VLLM_CONTROL_PATHS), false);
    assert.equal(isControlPath('/wake_up/', VLLM_CONTROL_PATHS), true);
    assert.equal(isControlPath('/sleeping-beauty', VLLM_CONTROL_PATHS), false);
    assert.equal(isControlPath('/v1/chat/completions', VLLM_CONTROL_PATHS), false);
    assert.equal(isControlPath('/v1/model', TABBYAPI_CONTROL_PATHS), false);
    assert.equal(isControlPath('/v1/model/load', TABBYAPI_CONTROL_PATHS), true);
  });
});

/** A vLLM that is awake after every call: for the timing test. */
function fakeVllmAwake(call: Call, res: ServerResponse): void {
  answer(res, 200, call.url === '/is_sleeping' ? { is_sleeping: false } : undefined);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
