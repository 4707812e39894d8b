// The Anthropic Messages API through the official @anthropic-ai/sdk against a real swapdock
// server: translation to an OpenAI-only backend (JSON, stream, tools), passthrough to a native
// one, count_tokens, Anthropic-shaped errors, loading heartbeats and client cancellation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { buildServer, waitFor } from '../support/app-harness.js';

let server: Awaited<ReturnType<typeof buildServer>>;
let client: Anthropic;
before(async () => {
  server = await buildServer(`
instance: app-anthropic
queue: { heartbeat: 100ms }
defaults: { ttl: 0, stopTimeout: 1s }
models:
  oa: { image: fake-model:latest, upstreamModel: org/oa, aliases: [claude-haiku-test] }
  native: { image: fake-model:latest, api: anthropic, upstreamModel: org/native }
  slow: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "500" } }
  broken: { image: fake-model:latest, env: { FAKE_EXIT_ON_START: "2" } }
  cold: { image: fake-model:latest }
`);
  // The SDK sends its key as Authorization: Bearer; Claude Code and older SDKs send x-api-key.
  client = new Anthropic({ baseURL: server.url, apiKey: 'sk-test-key', maxRetries: 0, defaultHeaders: { 'x-api-key': 'sk-test-key' } });
});
after(() => server.shutdown());

/** What the model's backend received last (the fake's /fake/requests). */
async function lastUpstream(model: string): Promise<{ path: string; headers: Record<string, string>; body: any }> {
  const info = await server.runtime.inspect(server.scheduler.snapshotOf(model)!.containerId!);
  const seen = (await (await fetch(`http://127.0.0.1:${info!.endpoint!.port}/fake/requests`)).json()) as { last: any };
  return seen.last;
}

const user = (content: string) => [{ role: 'user' as const, content }];
const weatherTool = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

describe('Anthropic Messages on an OpenAI-only backend (translated)', () => {
  it('answers a request with a system prompt, passing x-api-key on', async () => {
    const msg = await client.messages.create({ model: 'claude-haiku-test', max_tokens: 64, system: 'Be brief.', messages: user('hello there'), metadata: { user_id: 'u1' } });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.model, 'claude-haiku-test', 'the name the client used');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello from fake-model (model=org/oa)' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, 4, 'prompt_tokens of the backend');
    assert.equal(msg.usage.output_tokens, 4);
    const seen = await lastUpstream('oa');
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers['x-api-key'], 'sk-test-key');
    assert.equal(seen.headers.authorization, 'Bearer sk-test-key');
    assert.equal(seen.body.model, 'org/oa');
    assert.equal(seen.body.max_tokens, 64);
    assert.deepEqual(seen.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }]);
    assert.equal(seen.body.metadata, undefined);
  });

  it('maps finish_reason length to max_tokens', async () => {
    const msg = await client.messages.create({ model: 'oa', max_tokens: 5, messages: user('hi'), fake_finish_reason: 'length' } as never);
    assert.equal(msg.stop_reason, 'max_tokens');
  });

  it('streams, event by event, with usage in message_delta', async () => {
    const events: string[] = [];
    const stream = client.messages.stream({ model: 'oa', max_tokens: 64, messages: user('hi'), fake_chunks: 3 } as never);
    stream.on('streamEvent', (e) => events.push(e.type));
    const final = await stream.finalMessage();
    assert.equal((final.content[0] as { text: string }).text, 'Hello from fake-model (model=org/oa) #1 #2');
    assert.equal(final.stop_reason, 'end_turn');
    assert.deepEqual(final.usage.output_tokens, 3);
    assert.equal(final.usage.input_tokens, 1);
    assert.deepEqual(events, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const seen = await lastUpstream('oa');
    assert.deepEqual(seen.body.stream_options, { include_usage: true });
  });

  it('round-trips a tool call: tool_use out, tool_result back in', async () => {
    const first = await client.messages.create({ model: 'oa', max_tokens: 64, tools: [weatherTool], tool_choice: { type: 'any' }, messages: user('weather in Paris?'), fake_tool_args: { city: 'Paris' } } as never);
    assert.equal(first.stop_reason, 'tool_use');
    const call = first.content[0] as Anthropic.ToolUseBlock;
    assert.equal(call.type, 'tool_use');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.input, { city: 'Paris' });
    assert.ok(call.id);
    let seen = await lastUpstream('oa');
    assert.deepEqual(seen.body.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherTool.input_schema } }]);
    assert.equal(seen.body.tool_choice, 'required');

    const second = await client.messages.create({
      model: 'oa', max_tokens: 64, tools: [weatherTool],
      messages: [...user('weather in Paris?'), { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '21 C, sunny' }] }],
    });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0]!.type, 'text');
    seen = await lastUpstream('oa');
    assert.deepEqual(seen.body.messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.id, content: '21 C, sunny' },
    ]);
  });

  it('streams a tool call as input_json_delta that the SDK assembles', async () => {
    const stream = client.messages.stream({ model: 'oa', max_tokens: 64, tools: [weatherTool], messages: user('weather?'), fake_tool_args: { city: 'Lyon', days: 3 }, fake_chunks: 4 } as never);
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual((final.content[0] as Anthropic.ToolUseBlock).input, { city: 'Lyon', days: 3 });
    assert.ok(partials.length >= 2, `arguments arrived in pieces (${partials.length})`);
    assert.ok(final.usage.output_tokens > 0);
  });

  it('passes an upstream error on with its status, in Anthropic shape', async () => {
    await assert.rejects(client.messages.create({ model: 'oa', max_tokens: 8, messages: user('hi'), fake_status: 400 } as never), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.message, /model 'oa' answered 400: fake error 400/);
      return true;
    });
    await assert.rejects(client.messages.create({ model: 'oa', max_tokens: 8, messages: user('hi'), fake_status: 500 } as never), Anthropic.InternalServerError);
  });
});

/** Server-sent events of a whole response body, as {event, data}. */
function sseEvents(text: string): Array<{ event: string; data: any }> {
  return text.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => {
    const [eventLine, dataLine] = b.split('\n');
    return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) };
  });
}

/** A request as current Claude Code sends it (trimmed): beta fields, a system message inside messages, cache_control, a server tool. */
function claudeCodeRequest(messages: unknown[]): Record<string, unknown> {
  const ephemeral = { type: 'ephemeral' };
  return {
    model: 'oa', max_tokens: 32000, stream: true, temperature: 1,
    system: [{ type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: ephemeral }, { type: 'text', text: 'Be concise.', cache_control: ephemeral }],
    messages,
    tools: [
      { name: 'Bash', description: 'Runs a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] }, cache_control: ephemeral },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 8 },
    ],
    metadata: { user_id: 'user_x_account__session_y' },
    thinking: { type: 'adaptive' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
  };
}

const claudeCodeHeaders = {
  'content-type': 'application/json', 'x-api-key': 'sk-test-key', 'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,mid-conversation-system-2025-01-01',
  'user-agent': 'claude-cli/2.1.0 (external, cli)',
};

describe('Claude Code on an OpenAI-only backend', () => {
  it('a realistic request to /v1/messages?beta=true streams a proper answer', async () => {
    const res = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: 'POST', headers: claudeCodeHeaders,
      body: JSON.stringify(claudeCodeRequest([
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>' }, { type: 'text', text: 'list the files', cache_control: { type: 'ephemeral' } }] },
        { role: 'system', content: [{ type: 'text', text: 'Plan mode is off.' }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Run ls.', signature: 'c2ln' }, { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'a.txt' }], cache_control: { type: 'ephemeral' } }] },
      ])),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const events = sseEvents(text);
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', ...events.slice(2, -3).map(() => 'content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(events[0]!.data.message.model, 'oa');
    assert.equal(events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join('').startsWith('Hello from fake-model (model=org/oa)'), true);
    assert.equal(events.at(-2)!.data.delta.stop_reason, 'end_turn');

    const seen = await lastUpstream('oa');
    assert.equal(seen.path, '/v1/chat/completions');
    assert.deepEqual(seen.body.messages, [
      { role: 'system', content: "You are Claude Code, Anthropic's official CLI for Claude.\nBe concise.\n\nPlan mode is off." },
      { role: 'user', content: '<system-reminder>ctx</system-reminder>\nlist the files' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01', content: 'a.txt' },
    ]);
    assert.deepEqual(seen.body.tools.map((t: any) => t.function.name), ['Bash'], 'the server tool is dropped');
    for (const field of ['thinking', 'context_management', 'output_config', 'metadata', 'system']) assert.equal(seen.body[field], undefined, field);
    assert.equal(seen.body.max_tokens, 32000);
  });

  it('its first turn is answered with a streamed tool call the SDK assembles (beta endpoint)', async () => {
    const stream = client.beta.messages.stream(claudeCodeRequest([{ role: 'user', content: 'what is here?' }, { role: 'system', content: 'Use Bash.' }]) as never);
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const call = final.content.find((b) => b.type === 'tool_use') as { name: string; input: unknown };
    assert.equal(call.name, 'Bash');
    const seen = await lastUpstream('oa');
    assert.deepEqual(seen.body.messages, [{ role: 'system', content: "You are Claude Code, Anthropic's official CLI for Claude.\nBe concise.\n\nUse Bash." }, { role: 'user', content: 'what is here?' }]);
  });

  it('a message with an unknown role is a 400 that names it', async () => {
    const res = await fetch(`${server.url}/v1/messages?beta=true`, { method: 'POST', headers: claudeCodeHeaders, body: JSON.stringify({ model: 'oa', max_tokens: 8, messages: [{ role: 'developer', content: 'x' }] }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /messages\.0\.role: must be "user", "assistant" or "system"; got "developer"/);
  });
});

describe('Anthropic Messages on a native backend (passthrough)', () => {
  it('forwards /v1/messages as it is, rewriting the model name', async () => {
    const msg = await client.messages.create({ model: 'native', max_tokens: 32, messages: user('one two three') });
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'Hello from fake-model (model=org/native) via messages');
    assert.equal(msg.usage.input_tokens, 3);
    const seen = await lastUpstream('native');
    assert.equal(seen.path, '/v1/messages');
    assert.equal(seen.body.model, 'org/native');
    assert.equal(seen.headers['x-api-key'], 'sk-test-key');
    assert.ok(seen.headers['anthropic-version'], 'Anthropic headers pass through');
  });

  it('streams through unchanged', async () => {
    const final = await client.messages.stream({ model: 'native', max_tokens: 32, messages: user('hi'), fake_chunks: 2 } as never).finalMessage();
    assert.equal((final.content[0] as Anthropic.TextBlock).text, 'Hello from fake-model (model=org/native) via messages #1');
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('counts tokens with the backend when it is loaded', async () => {
    const counted = await client.messages.countTokens({ model: 'native', system: 'a b', messages: user('one two three') });
    assert.equal(counted.input_tokens, 5, "the backend's own count");
    assert.equal((await lastUpstream('native')).path, '/v1/messages/count_tokens');
  });
});

describe('count_tokens', () => {
  it('estimates without loading a model that is not ready', async () => {
    const counted = await client.messages.countTokens({ model: 'cold', messages: user('x'.repeat(400)) });
    assert.equal(counted.input_tokens, 100, 'about one token per four characters');
    assert.equal(server.scheduler.snapshotOf('cold')!.status, 'stopped');
  });

  it("asks a loaded OpenAI-only backend's /tokenize", async () => {
    await client.messages.create({ model: 'oa', max_tokens: 8, messages: user('hi') });
    const counted = await client.messages.countTokens({ model: 'oa', messages: user('hello world, how are you?') });
    assert.equal(counted.input_tokens, 5, "the fake's tokenizer counts words (the estimate would say 7)");
    const info = await server.runtime.inspect(server.scheduler.snapshotOf('oa')!.containerId!);
    const stats = (await (await fetch(`http://127.0.0.1:${info!.endpoint!.port}/fake/requests`)).json()) as { byRoute: Record<string, number> };
    assert.equal(stats.byRoute['POST /tokenize'], 1);
  });
});

describe('observability', () => {
  it('a translated request emits one request event with its tokens', async () => {
    const events: Array<{ path: string; model?: string; status: number; tokensIn?: number; tokensOut?: number }> = [];
    const listener = (e: (typeof events)[number]) => events.push(e);
    server.scheduler.events.on('request', listener);
    try {
      await client.messages.create({ model: 'oa', max_tokens: 8, messages: user('one two three') });
      await waitFor(() => events.some((e) => e.path === '/v1/messages'), 2000, 'the request event');
      const event = events.find((e) => e.path === '/v1/messages')!;
      assert.deepEqual([event.model, event.status, event.tokensIn, event.tokensOut], ['oa', 200, 3, 4]);
    } finally {
      server.scheduler.events.off('request', listener);
    }
  });
});

describe('Anthropic-shaped errors', () => {
  it('an unknown model is a 404 not_found_error', async () => {
    await assert.rejects(client.messages.create({ model: 'nope', max_tokens: 8, messages: user('hi') }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal(err.type, 'not_found_error');
      assert.match(err.message, /'nope' is not configured/);
      return true;
    });
  });

  it('a body that is not JSON is a 400 invalid_request_error', async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: '{"model": ' });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /not valid JSON/);
    }
  });

  it('a request without messages is refused by the SDK error classes', async () => {
    await assert.rejects(client.messages.create({ model: 'oa', max_tokens: 8 } as never), Anthropic.BadRequestError);
  });
});

describe('loading and cancellation', () => {
  it('a stream waiting for its model gets pings, then the answer', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', max_tokens: 8, stream: true, messages: user('hi') }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    assert.match(events[0]!, /^: swapdock: waiting for model 'slow'/);
    const firstData = events.findIndex((e) => e.startsWith('event: message_start'));
    assert.ok(events.slice(0, firstData).filter((e) => e.startsWith('event: ping')).length >= 2, 'pings while the model loads');
    assert.match(events.at(-1)!, /^event: message_stop/);
    // And the SDK takes such a stream as it is.
    await server.scheduler.unload('slow');
    const final = await client.messages.stream({ model: 'slow', max_tokens: 8, messages: user('hi') }).finalMessage();
    assert.match((final.content[0] as Anthropic.TextBlock).text, /^Hello from fake-model/);
  });

  it('a failed load ends the stream with an Anthropic error event', async () => {
    await assert.rejects(client.messages.stream({ model: 'broken', max_tokens: 8, messages: user('hi') }).finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.match(err.message, /could not be started/);
      return true;
    });
  });

  it('a client that aborts mid-stream cancels the upstream request', async () => {
    const stream = client.messages.stream({ model: 'oa', max_tokens: 64, messages: user('hi'), fake_chunks: 100, fake_chunk_delay_ms: 30 } as never);
    await new Promise<void>((resolve) => stream.on('text', () => resolve()));
    stream.abort();
    await stream.done().catch(() => undefined);
    const containerId = server.scheduler.snapshotOf('oa')!.containerId!;
    await waitFor(async () => (await server.runtime.logs(containerId, 50)).some((l) => /client disconnected after \d+ chunks/.test(l)), 3000, 'the backend to see the disconnect');
    await waitFor(() => server.scheduler.snapshotOf('oa')!.inFlight === 0, 3000, 'the lease to be released');
  });
});
