// Chat completion (JSON and SSE stream) → Responses `response` object and stream events. Every
// stream here is also replayed through the openai SDK's own accumulator (accumulateResponse),
// which throws on an event sequence a client could not follow.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { ModelStartError } from '../../src/errors.js';
import { checkResponsesRequest, toChatCompletion } from '../../src/proxy/responses/translate-request.js';
import { mapUsage, toResponse, type ResponseContext } from '../../src/proxy/responses/translate-response.js';
import { ResponsesStreamTranslator } from '../../src/proxy/responses/translate-stream.js';

function context(body: Record<string, unknown> = {}): ResponseContext {
  const request = checkResponsesRequest({ model: 'codex-m', input: 'hi', ...body });
  return { model: 'codex-m', request, tools: toChatCompletion(request, 'backend').tools };
}

const toolsBody = {
  tools: [
    { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: {} } },
    { type: 'namespace', name: 'multi_agent_v1', tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }] },
    { type: 'custom', name: 'apply_patch' },
  ],
};

/** The SSE events of translated text, as {event, data}; `event:` always names data.type. */
function events(text: string): Array<{ type: string; data: any }> {
  return text.split('\n\n').filter(Boolean).map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    const data = JSON.parse(dataLine!.slice('data: '.length));
    assert.equal(eventLine, `event: ${data.type}`);
    return { type: data.type as string, data };
  });
}

/** Replays events through the SDK's accumulator; checks sequence numbers count up from 0. Returns the final snapshot. */
function accumulate(list: Array<{ data: any }>): any {
  let snapshot: any;
  list.forEach(({ data }, i) => {
    assert.equal(data.sequence_number, i, 'sequence numbers count up from 0');
    snapshot = accumulateResponse(data, snapshot);
  });
  return snapshot;
}

const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usageChunk = (usage: unknown) => `data: ${JSON.stringify({ id: 'chatcmpl-1', choices: [], usage })}\n\n`;

describe('a chat completion as a Responses response object', () => {
  it('answers text with usage, the model name the client used and the request echoed', () => {
    const ctx = context({ instructions: 'Be brief.', temperature: 0.5 });
    const response = toResponse({ id: 'chatcmpl-1', created: 1700000000, choices: [{ message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }, ctx) as any;
    assert.match(response.id, /^resp_[0-9a-f]{24}$/);
    assert.equal(response.object, 'response');
    assert.equal(response.created_at, 1700000000);
    assert.equal(response.status, 'completed');
    assert.equal(response.model, 'codex-m');
    assert.equal(response.instructions, 'Be brief.');
    assert.equal(response.temperature, 0.5);
    assert.equal(response.output.length, 1);
    assert.match(response.output[0].id, /^msg_/);
    assert.deepEqual({ ...response.output[0], id: 'x' }, { id: 'x', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi!', annotations: [], logprobs: [] }] });
    assert.deepEqual(response.usage, { input_tokens: 7, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 9 });
  });

  it('answers tool calls as function_call items: namespace apart again, custom tools as custom_tool_call, no arguments = {}', () => {
    const response = toResponse({
      choices: [{
        message: {
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } },
            { id: 'call_2', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '' } },
            { id: 'call_3', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
          ],
        },
        finish_reason: 'tool_calls',
      }],
    }, context(toolsBody)) as any;
    const items = response.output.map(({ id, ...rest }: any) => rest);
    assert.deepEqual(items, [
      { type: 'function_call', status: 'completed', arguments: '{"cmd":"ls"}', call_id: 'call_1', name: 'exec_command' },
      { type: 'function_call', status: 'completed', arguments: '{}', call_id: 'call_2', name: 'spawn_agent', namespace: 'multi_agent_v1' },
      { type: 'custom_tool_call', status: 'completed', call_id: 'call_3', name: 'apply_patch', input: '*** Begin Patch' },
    ]);
    assert.equal(response.status, 'completed');
    assert.equal(response.usage, null, 'the backend sent no usage');
  });

  it('puts reasoning first as a reasoning item; a cut answer is incomplete', () => {
    const response = toResponse({ choices: [{ message: { content: 'Four.', reasoning_content: '2+2...' }, finish_reason: 'length' }] }, context()) as any;
    assert.deepEqual(response.output.map((o: any) => o.type), ['reasoning', 'message']);
    assert.deepEqual(response.output[0].content, [{ type: 'reasoning_text', text: '2+2...' }]);
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
  });

  it('maps usage, cached and reasoning tokens included', () => {
    assert.deepEqual(mapUsage({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } }), {
      input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 15,
    });
    assert.equal(mapUsage(undefined), null);
  });
});

describe('a chat completion stream as a Responses stream', () => {
  it('streams text as the event sequence clients expect, with usage from the include_usage chunk', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const out = t.feed(chunk({ role: 'assistant', content: 'Hel' }) + chunk({ content: 'lo' }) + chunk({}, 'stop')) + t.feed(usageChunk({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }) + 'data: [DONE]\n\n');
    const list = events(out);
    assert.deepEqual(list.map((e) => e.type), [
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    assert.deepEqual(list.filter((e) => e.type === 'response.output_text.delta').map((e) => e.data.delta), ['Hel', 'lo']);
    const final = accumulate(list);
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, 'Hello');
    assert.deepEqual(final.usage, { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 5 });
    assert.equal(t.end(), '', 'nothing after [DONE]');
    assert.equal(list[0]!.data.response.id, list.at(-1)!.data.response.id, 'one response id throughout');
  });

  it('streams tool call arguments as function_call_arguments deltas; a namespaced call comes back with its namespace', () => {
    const t = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    let out = t.feed(chunk({ role: 'assistant', content: 'Running.' }));
    out += t.feed(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'exec_command', arguments: '' } }] }));
    out += t.feed(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"cmd":' } }] }) + chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }));
    out += t.feed(chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } }] }));
    out += t.feed(chunk({}, 'tool_calls')) + t.end();
    const list = events(out);
    const deltas = list.filter((e) => e.type === 'response.function_call_arguments.delta');
    assert.deepEqual(deltas.map((e) => [e.data.output_index, e.data.delta]), [[1, '{"cmd":'], [1, '"ls"}'], [2, '{}']]);
    const done = list.filter((e) => e.type === 'response.function_call_arguments.done').map((e) => [e.data.name, e.data.arguments]);
    assert.deepEqual(done, [['exec_command', '{"cmd":"ls"}'], ['spawn_agent', '{}']]);
    const final = accumulate(list);
    assert.deepEqual(final.output.map(({ id, ...rest }: any) => rest), [
      { type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Running.', annotations: [], logprobs: [] }] },
      { type: 'function_call', status: 'completed', arguments: '{"cmd":"ls"}', call_id: 'call_a', name: 'exec_command' },
      { type: 'function_call', status: 'completed', arguments: '{}', call_id: 'call_b', name: 'spawn_agent', namespace: 'multi_agent_v1' },
    ]);
    assert.equal(final.usage, null, 'no usage chunk came');
  });

  it('keeps interleaved parallel calls apart, and tells calls apart by id when a server numbers them all 0', () => {
    const t = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    let out = t.feed(chunk({ tool_calls: [{ index: 0, id: 'c0', function: { name: 'exec_command', arguments: '{"cmd"' } }, { index: 1, id: 'c1', function: { name: 'exec_command', arguments: '{"cmd"' } }] }));
    out += t.feed(chunk({ tool_calls: [{ index: 1, function: { arguments: ':"b"}' } }, { index: 0, function: { arguments: ':"a"}' } }] }));
    out += t.feed(chunk({ tool_calls: [{ index: 0, id: 'c2', function: { name: 'exec_command', arguments: '{"cmd":"c"}' } }] })) + t.end();
    const final = accumulate(events(out));
    assert.deepEqual(final.output.map((o: any) => [o.call_id, o.arguments]), [['c0', '{"cmd":"a"}'], ['c1', '{"cmd":"b"}'], ['c2', '{"cmd":"c"}']]);
  });

  it('gives a custom tool its input whole, unwrapped from the function arguments', () => {
    const t = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    const out = t.feed(chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'apply_patch', arguments: '{"input":"*** Be' } }] }) + chunk({ tool_calls: [{ index: 0, function: { arguments: 'gin"}' } }] })) + t.end();
    const list = events(out);
    assert.deepEqual(list.filter((e) => e.type.startsWith('response.custom_tool_call_input')).map((e) => [e.type, e.data.delta ?? e.data.input]), [
      ['response.custom_tool_call_input.delta', '*** Begin'], ['response.custom_tool_call_input.done', '*** Begin'],
    ]);
    assert.equal(list.filter((e) => e.type === 'response.function_call_arguments.delta').length, 0);
    assert.deepEqual(accumulate(list).output.map(({ id, ...rest }: any) => rest), [{ type: 'custom_tool_call', status: 'completed', call_id: 'c', name: 'apply_patch', input: '*** Begin' }]);
  });

  it('streams the backend\'s reasoning as a reasoning item before the text', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const out = t.feed(chunk({ reasoning_content: 'Let me ' }) + chunk({ reasoning_content: 'think.' }) + chunk({ content: 'Yes.' }, 'stop')) + t.end();
    const list = events(out);
    assert.deepEqual(list.filter((e) => e.type === 'response.reasoning_text.delta').map((e) => e.data.delta), ['Let me ', 'think.']);
    const final = accumulate(list);
    assert.deepEqual(final.output.map((o: any) => o.type), ['reasoning', 'message']);
    assert.deepEqual(final.output[0].content, [{ type: 'reasoning_text', text: 'Let me think.' }]);
  });

  it('gives the same events however the upstream bytes are split', () => {
    const upstream = chunk({ content: 'Hé' }) + chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'exec_command', arguments: '{}' } }] }) + chunk({}, 'tool_calls') + usageChunk({ prompt_tokens: 1, completion_tokens: 1 }) + 'data: [DONE]\n\n';
    const strip = (list: Array<{ type: string; data: any }>) => JSON.stringify(list.map((e) => e.type)) + JSON.stringify(accumulate(list).output.map(({ id, ...r }: any) => r));
    const whole = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    const bytes = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    let split = '';
    for (const ch of upstream) split += bytes.feed(ch);
    assert.equal(strip(events(split + bytes.end())), strip(events(whole.feed(upstream) + whole.end())));
  });

  it('completes a stream that ended without [DONE], and marks one cut at the token limit incomplete', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const list = events(t.feed(chunk({ content: 'Hi' }, 'length')) + t.end());
    assert.equal(list.at(-1)!.type, 'response.incomplete');
    const final = accumulate(list);
    assert.equal(final.status, 'incomplete');
    assert.deepEqual(final.incomplete_details, { reason: 'max_output_tokens' });
  });

  it('ends with response.failed carrying the backend\'s error event', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const list = events(t.feed(chunk({ content: 'Hi' }) + `data: ${JSON.stringify({ error: { message: 'out of memory', type: 'server_error' } })}\n\n`) + t.end());
    assert.equal(list.at(-1)!.type, 'response.failed');
    const failed = list.at(-1)!.data.response;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'upstream_stream_broken');
    assert.match(failed.error.message, /backend of model 'codex-m' broke off the stream: out of memory/);
    assert.equal(accumulate(list).status, 'failed');
  });

  it('fails before any output with response.created first, so clients can read the error', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const list = events(t.failed(new ModelStartError('codex-m', 'the image is missing', 'image_unavailable')));
    assert.deepEqual(list.map((e) => e.type), ['response.created', 'response.in_progress', 'response.failed']);
    assert.deepEqual(list[2]!.data.response.error, { code: 'image_unavailable', message: "Model 'codex-m' could not be started: the image is missing." });
    assert.equal(t.failed(new Error('again')), '', 'nothing after the end');
  });

  it('sends a heartbeat while the model loads as response.in_progress, and a JSON answer as the events that build it', () => {
    const t = new ResponsesStreamTranslator(context({ ...toolsBody, stream: true }));
    const head = events(t.start() + t.heartbeat() + t.heartbeat());
    assert.deepEqual(head.map((e) => e.type), ['response.created', 'response.in_progress', 'response.in_progress', 'response.in_progress']);
    const rest = events(t.completion({ choices: [{ message: { content: 'Calling.', tool_calls: [{ id: 'c', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 2, completion_tokens: 3 } }));
    const final = accumulate([...head, ...rest]);
    assert.equal(final.output_text, 'Calling.');
    assert.deepEqual(final.output.map((o: any) => o.type), ['message', 'function_call']);
    assert.equal(final.output[1].arguments, '{"cmd":"ls"}');
    assert.equal(final.usage.total_tokens, 5);
    assert.equal(t.heartbeat(), '', 'no heartbeat after the end');
  });

  it('answers an empty completion with an empty message', () => {
    const t = new ResponsesStreamTranslator(context({ stream: true }));
    const final = accumulate(events(t.feed('data: [DONE]\n\n')));
    assert.deepEqual(final.output.map((o: any) => [o.type, o.content[0].text]), [['message', '']]);
  });
});
