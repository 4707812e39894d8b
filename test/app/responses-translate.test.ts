// POST /v1/responses through the official `openai` client against a real swapdock server (real
// fake-model processes, which speak only chat completions): with `responses: translate` the request
// becomes a chat completion and the answer a Responses answer — JSON and stream, text, tool calls
// (streamed arguments included), usage, hosted tools dropped, errors, loading heartbeats,
// cancellation; with the default `passthrough` the route forwards as it always did.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { buildServer, waitFor } from '../support/app-harness.js';

let server: Awaited<ReturnType<typeof buildServer>>;
let client: OpenAI;
before(async () => {
  server = await buildServer(`
instance: app-responses
queue: { heartbeat: 100ms }
defaults: { ttl: 0, stopTimeout: 1s }
models:
  tr: { image: fake-model:latest, responses: translate, upstreamModel: org/tr, aliases: [codex-test] }
  pass: { image: fake-model:latest, upstreamModel: org/pass }
  slow: { image: fake-model:latest, responses: translate, env: { FAKE_READY_DELAY_MS: "500" } }
  broken: { image: fake-model:latest, responses: translate, env: { FAKE_EXIT_ON_START: "2" } }
`);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test-key', maxRetries: 0 });
});
after(() => server.shutdown());

async function backendPort(model: string): Promise<number> {
  const info = await server.runtime.inspect(server.scheduler.snapshotOf(model)!.containerId!);
  return info!.endpoint!.port;
}

/** What the model's backend received (the fake's /fake/requests). */
async function upstream(model: string): Promise<{ count: number; last: { path: string; headers: Record<string, string>; body: any } }> {
  return (await (await fetch(`http://127.0.0.1:${await backendPort(model)}/fake/requests`)).json()) as never;
}

/** The SSE events of a whole body: comments as {comment}, events as {event, data}. */
function sseBlocks(text: string): Array<{ comment?: string; event?: string; data?: any }> {
  return text.split('\n\n').filter(Boolean).flatMap((block) =>
    block.split('\n').reduce<Array<{ comment?: string; event?: string; data?: any }>>((out, line) => {
      if (line.startsWith(': ')) out.push({ comment: line.slice(2) });
      else if (line.startsWith('event: ')) out.push({ event: line.slice(7) });
      else if (line.startsWith('data: ')) out.at(-1)!.data = JSON.parse(line.slice(6));
      return out;
    }, []),
  );
}

const post = (body: unknown) => fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const weather = { type: 'function' as const, name: 'get_weather', description: 'Current weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const forecast = { type: 'namespace', name: 'forecasts', description: 'Forecast tools', tools: [{ type: 'function', name: 'get_forecast', parameters: { type: 'object', properties: { days: { type: 'number' } } } }] };
const hosted = [{ type: 'web_search', external_web_access: false }, { type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'code_interpreter', container: { type: 'auto' } }];

describe('Responses on a chat-completions-only backend (responses: translate)', () => {
  it('answers JSON: instructions and input as messages, output text, usage, the model name the client used', async () => {
    const response = await client.responses.create({ model: 'codex-test', instructions: 'Be brief.', input: 'hello there', store: false, include: ['reasoning.encrypted_content'], max_output_tokens: 64 });
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.model, 'codex-test');
    assert.equal(response.output_text, 'Hello from fake-model (model=org/tr)');
    assert.deepEqual([response.usage?.input_tokens, response.usage?.output_tokens, response.usage?.total_tokens], [4, 4, 8]);
    const seen = (await upstream('tr')).last;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, 'Bearer sk-test-key');
    assert.equal(seen.body.model, 'org/tr');
    assert.deepEqual(seen.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }]);
    assert.equal(seen.body.max_tokens, 64);
    for (const field of ['input', 'instructions', 'store', 'include', 'max_output_tokens']) assert.equal(seen.body[field], undefined, field);
  });

  it('streams the event sequence clients expect, asking the backend for its usage', async () => {
    const types: string[] = [];
    const stream = client.responses.stream({ model: 'tr', input: [{ role: 'user', content: 'hi' }], fake_chunks: 3 } as never);
    stream.on('event', (e) => types.push(e.type));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, 'Hello from fake-model (model=org/tr) #1 #2');
    assert.deepEqual([final.usage?.input_tokens, final.usage?.output_tokens], [1, 3], 'from the include_usage chunk');
    assert.deepEqual(types, [
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    const seen = (await upstream('tr')).last;
    assert.equal(seen.body.stream, true);
    assert.deepEqual(seen.body.stream_options, { include_usage: true });
  });

  it('round-trips a tool call: function_call out, function_call_output back in as a tool message', async () => {
    const first = await client.responses.create({ model: 'tr', input: 'weather in Paris?', tools: [weather], tool_choice: 'required', fake_tool_args: { city: 'Paris' } } as never);
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.match(call.call_id, /^call_fake_/);
    let seen = (await upstream('tr')).last;
    assert.deepEqual(seen.body.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weather.parameters, strict: false } }]);
    assert.equal(seen.body.tool_choice, 'required');

    const second = await client.responses.create({
      model: 'tr', tools: [weather],
      input: [{ role: 'user', content: 'weather in Paris?' }, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: '21 C, sunny' }] as never,
    });
    assert.equal(second.output_text, 'Hello from fake-model (model=org/tr)');
    seen = (await upstream('tr')).last;
    assert.deepEqual(seen.body.messages, [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.call_id, content: '21 C, sunny' },
    ]);
  });

  it('streams a tool call: arguments as function_call_arguments deltas; a namespaced tool comes back with its namespace', async () => {
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: 'tr', input: 'forecast?', tools: [forecast, weather, ...hosted], fake_tool_args: { days: 3, city: 'Lyon' }, fake_chunks: 4 } as never);
    stream.on('response.function_call_arguments.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    assert.ok(deltas.length >= 2, `the arguments arrived in pieces (${deltas.length})`);
    const call = final.output[0] as OpenAI.Responses.ResponseFunctionToolCall & { namespace?: string };
    assert.deepEqual([call.type, call.name, call.namespace], ['function_call', 'get_forecast', 'forecasts']);
    assert.deepEqual(JSON.parse(call.arguments), { days: 3, city: 'Lyon' });
    assert.equal(deltas.join(''), call.arguments);
    assert.ok(final.usage!.output_tokens > 0);
    const seen = (await upstream('tr')).last;
    assert.deepEqual(seen.body.tools.map((t: any) => t.function.name), ['forecasts__get_forecast', 'get_weather'], 'hosted tools dropped, the namespaced one flattened');
  });

  it('never refuses tools a chat backend cannot run: only hosted tools = a plain answer', async () => {
    const response = await client.responses.create({ model: 'tr', input: 'search the web', tools: [...hosted, { type: 'image_generation' }, { type: 'some_future_tool' }] as never, tool_choice: 'auto' });
    assert.equal(response.output_text, 'Hello from fake-model (model=org/tr)');
    const seen = (await upstream('tr')).last;
    assert.equal(seen.body.tools, undefined);
    assert.equal(seen.body.tool_choice, undefined);
  });

  it('emits one request event with the tokens of the translated request', async () => {
    const events: Array<{ path: string; model?: string; status: number; tokensIn?: number; tokensOut?: number }> = [];
    const listener = (e: (typeof events)[number]) => events.push(e);
    server.scheduler.events.on('request', listener);
    try {
      await client.responses.create({ model: 'tr', input: 'one two three', stream: true }).then(async (s) => { for await (const _ of s); });
      await waitFor(() => events.some((e) => e.path === '/v1/responses'), 2000, 'the request event');
      const event = events.find((e) => e.path === '/v1/responses')!;
      assert.deepEqual([event.model, event.status, event.tokensIn, event.tokensOut], ['tr', 200, 3, 5]);
    } finally {
      server.scheduler.events.off('request', listener);
    }
  });
});

describe('Responses errors (translated)', () => {
  it('passes an upstream error on with its status, OpenAI-shaped', async () => {
    await assert.rejects(client.responses.create({ model: 'tr', input: 'hi', fake_status: 400 } as never), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'upstream_400');
      assert.match(err.message, /model 'tr' answered 400: fake error 400/);
      return true;
    });
    await assert.rejects(client.responses.create({ model: 'tr', input: 'hi', fake_status: 500 } as never), OpenAI.InternalServerError);
  });

  it('refuses malformed input and previous_response_id with a 400 naming the field, before the backend sees anything', async () => {
    const before = (await upstream('tr')).count;
    const bad = await post({ model: 'tr', input: [{ role: 'robot', content: 'x' }] });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as any).error.code, 'invalid_input');
    await assert.rejects(client.responses.create({ model: 'tr', input: 'hi', previous_response_id: 'resp_1' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.code, 'unsupported_parameter');
      assert.match(err.message, /previous_response_id: .*Send the whole conversation in "input"/);
      return true;
    });
    assert.equal((await upstream('tr')).count, before);
  });

  it('an unknown model is a 404 listing the models; a body that is not JSON a 400', async () => {
    await assert.rejects(client.responses.create({ model: 'nope', input: 'hi' }), (err: unknown) => err instanceof OpenAI.NotFoundError && /'nope' is not configured/.test(err.message));
    const res = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.code, 'invalid_json');
  });
});

describe('Responses while a model loads, and cancellation (translated)', () => {
  it('a stream waiting for its model gets response.created at once and response.in_progress heartbeats, then the answer', async () => {
    await server.scheduler.unload('slow');
    const res = await post({ model: 'slow', input: 'hi', stream: true, fake_chunks: 2 });
    assert.equal(res.status, 200);
    const blocks = sseBlocks(await res.text());
    assert.match(blocks[0]!.comment!, /^swapdock: waiting for model 'slow'/);
    const events = blocks.filter((b) => b.event);
    assert.deepEqual(events.slice(0, 2).map((e) => e.event), ['response.created', 'response.in_progress']);
    const firstItem = events.findIndex((e) => e.event === 'response.output_item.added');
    assert.ok(events.slice(2, firstItem).every((e) => e.event === 'response.in_progress'), 'only heartbeats before the answer');
    assert.ok(blocks.some((b) => b.comment?.startsWith("swapdock: still waiting for 'slow'")), 'heartbeats while the model loads');
    assert.equal(events.at(-1)!.event, 'response.completed');
    assert.equal(events.at(-1)!.data.response.output[0].content[0].text, 'Hello from fake-model (model=slow) #1');
    assert.deepEqual(events.map((e) => e.data.sequence_number), events.map((_, i) => i));
    // And the SDK takes such a stream as it is.
    await server.scheduler.unload('slow');
    const final = await client.responses.stream({ model: 'slow', input: 'hi' }).finalResponse();
    assert.match(final.output_text, /^Hello from fake-model/);
  });

  it('an error after the stream began is its last event, response.failed', async () => {
    await server.scheduler.unload('slow');
    const events = sseBlocks(await (await post({ model: 'slow', input: 'hi', stream: true, fake_status: 500 })).text()).filter((b) => b.event);
    assert.equal(events.at(-1)!.event, 'response.failed');
    assert.equal(events.at(-1)!.data.response.status, 'failed');
    assert.equal(events.at(-1)!.data.response.error.code, 'upstream_500');
    assert.match(events.at(-1)!.data.response.error.message, /model 'slow' answered 500: fake error 500/);

    const broken = sseBlocks(await (await post({ model: 'broken', input: 'hi', stream: true })).text()).filter((b) => b.event);
    assert.deepEqual(broken.map((e) => e.event).filter((e) => e !== 'response.in_progress'), ['response.created', 'response.failed']);
    assert.match(broken.at(-1)!.data.response.error.message, /could not be started/);
  });

  it('a client that aborts mid-stream cancels the upstream request', async () => {
    const stream = client.responses.stream({ model: 'tr', input: 'hi', fake_chunks: 100, fake_chunk_delay_ms: 30 } as never);
    await new Promise<void>((resolve) => stream.on('response.output_text.delta', () => resolve()));
    stream.abort();
    await stream.done().catch(() => undefined);
    const containerId = server.scheduler.snapshotOf('tr')!.containerId!;
    await waitFor(async () => (await server.runtime.logs(containerId, 50)).some((l) => /client disconnected after \d+ chunks/.test(l)), 3000, 'the backend to see the disconnect');
    await waitFor(() => server.scheduler.snapshotOf('tr')!.inFlight === 0, 3000, 'the lease to be released');
  });
});

describe('Responses with the default (responses: passthrough)', () => {
  it('forwards /v1/responses as it is: only the model rewritten, the backend\'s own answer returned', async () => {
    const body = { model: 'pass', input: 'x', tools: [{ type: 'web_search' }], store: true, stream: false };
    const res = await post(body);
    const text = await res.text();
    const seen = (await upstream('pass')).last;
    assert.equal(seen.path, '/v1/responses');
    assert.deepEqual(seen.body, { ...body, model: 'org/pass' });
    // This backend has no Responses API: its own 404, status, type and bytes, exactly as it sent them.
    const direct = await fetch(`http://127.0.0.1:${await backendPort('pass')}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seen.body) });
    assert.equal(res.status, direct.status);
    assert.equal(res.headers.get('content-type'), direct.headers.get('content-type'));
    assert.equal(text, await direct.text());
    assert.ok(res.headers.get('x-request-id'));
  });
});
