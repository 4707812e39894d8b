// OpenAI chat completion (JSON and SSE stream) → Anthropic Message and stream events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { mapStopReason, toAnthropicMessage, upstreamErrorMessage } from '../../src/proxy/anthropic/translate-response.js';
import { AnthropicStreamTranslator } from '../../src/proxy/anthropic/translate-stream.js';

describe('translating an OpenAI completion to an Anthropic Message', () => {
  it('maps text, usage, id and the model name the client used', () => {
    const msg = toAnthropicMessage({ id: 'chatcmpl-1', choices: [{ message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 2 } }, 'claude-x');
    assert.deepEqual(msg, {
      id: 'msg_chatcmpl-1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'Hi!' }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 7, output_tokens: 2 },
    });
  });

  it('maps tool calls to tool_use blocks with parsed input', () => {
    const msg = toAnthropicMessage({
      choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }, { id: 'call_2', function: { name: 'g', arguments: 'not json' } }] }, finish_reason: 'tool_calls' }],
    }, 'm');
    assert.deepEqual(msg.content, [{ type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } }, { type: 'tool_use', id: 'call_2', name: 'g', input: { _raw_arguments: 'not json' } }]);
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(msg.usage, { input_tokens: 0, output_tokens: 0 });
  });

  it('maps every stop reason', () => {
    assert.equal(mapStopReason('stop', null).stop_reason, 'end_turn');
    assert.equal(mapStopReason('length', null).stop_reason, 'max_tokens');
    assert.equal(mapStopReason('tool_calls', null).stop_reason, 'tool_use');
    assert.equal(mapStopReason(undefined, null).stop_reason, 'end_turn');
    // vLLM names the matched stop string in the choice's stop_reason.
    assert.deepEqual(mapStopReason('stop', 'END', ['END']), { stop_reason: 'stop_sequence', stop_sequence: 'END' });
    assert.equal(mapStopReason('stop', 'other', ['END']).stop_reason, 'end_turn');
  });

  it('reads the message of an upstream error in OpenAI shape, or any text', () => {
    assert.equal(upstreamErrorMessage('{"error":{"message":"context too long","type":"invalid_request_error"}}'), 'context too long');
    assert.equal(upstreamErrorMessage('{"detail":"bad"}'), 'bad');
    assert.equal(upstreamErrorMessage('Internal Server Error'), 'Internal Server Error');
  });
});

function parseEvents(sse: string): Array<{ event: string; data: any }> {
  return sse.split('\n\n').filter(Boolean).map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) };
  });
}

const chunk = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;

describe('translating an OpenAI stream to Anthropic stream events', () => {
  it('streams text as one block, with stop reason and usage from the final usage chunk', () => {
    const t = new AnthropicStreamTranslator('claude-x');
    const upstream =
      chunk({ id: 'c1', choices: [{ delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] }) +
      chunk({ id: 'c1', choices: [{ delta: { content: 'lo' }, finish_reason: null }] }) +
      chunk({ id: 'c1', choices: [{ delta: {}, finish_reason: 'length' }] }) +
      chunk({ id: 'c1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }) +
      'data: [DONE]\n\n';
    // Fed in awkward pieces: events are emitted as soon as they are complete.
    let out = '';
    for (let i = 0; i < upstream.length; i += 7) out += t.feed(upstream.slice(i, i + 7));
    out += t.end();
    const events = parseEvents(out);
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(events[0]!.data.message.model, 'claude-x');
    assert.equal(events[0]!.data.message.id, 'msg_c1');
    assert.deepEqual(events[1]!.data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    assert.deepEqual(events.slice(2, 4).map((e) => e.data.delta.text), ['Hel', 'lo']);
    assert.deepEqual(events[5]!.data, { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { input_tokens: 5, output_tokens: 2 } });
  });

  it('emits message_start as soon as the first chunk arrives', () => {
    const t = new AnthropicStreamTranslator('m');
    assert.equal(t.feed('data: {"id":"x","choi'), '');
    assert.match(t.feed('ces":[{"delta":{"content":"a"}}]}\n\n'), /^event: message_start\n[\s\S]*text_delta/);
  });

  it('streams text then tool calls as tool_use blocks with input_json_delta', () => {
    const t = new AnthropicStreamTranslator('m');
    const out =
      t.feed(chunk({ choices: [{ delta: { content: 'Let me check.' } }] })) +
      t.feed(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] } }] })) +
      t.feed(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }] })) +
      t.feed(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } }] })) +
      t.feed(chunk({ choices: [{ delta: { tool_calls: [{ index: 1, id: 'call_b', function: { name: 'get_time', arguments: '{}' } }] } }] })) +
      t.feed(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] })) +
      t.feed('data: [DONE]\n\n') +
      t.end();
    const events = parseEvents(out);
    assert.deepEqual(events.map((e) => `${e.event}:${e.data.index ?? ''}`), [
      'message_start:', 'content_block_start:0', 'content_block_delta:0', 'content_block_stop:0',
      'content_block_start:1', 'content_block_delta:1', 'content_block_delta:1', 'content_block_stop:1',
      'content_block_start:2', 'content_block_delta:2', 'content_block_stop:2', 'message_delta:', 'message_stop:',
    ]);
    assert.deepEqual(events[4]!.data.content_block, { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} });
    assert.equal(events[5]!.data.delta.partial_json + events[6]!.data.delta.partial_json, '{"city":"Paris"}');
    assert.equal(events[8]!.data.content_block.name, 'get_time');
    assert.equal(events.at(-2)!.data.delta.stop_reason, 'tool_use');
  });

  it('reports a matched stop sequence', () => {
    const t = new AnthropicStreamTranslator('m', ['###']);
    const out = t.feed(chunk({ choices: [{ delta: { content: 'x' }, finish_reason: 'stop', stop_reason: '###' }] })) + t.end();
    assert.deepEqual(parseEvents(out).at(-2)!.data.delta, { stop_reason: 'stop_sequence', stop_sequence: '###' });
  });

  it('closes the message when the upstream ends without [DONE], exactly once', () => {
    const t = new AnthropicStreamTranslator('m');
    const out = t.feed(chunk({ choices: [{ delta: { content: 'x' } }] })) + t.end() + t.end();
    assert.equal(parseEvents(out).filter((e) => e.event === 'message_stop').length, 1);
  });

  it('turns an error event from the backend into an Anthropic error event', () => {
    const t = new AnthropicStreamTranslator('m');
    const out = t.feed(chunk({ choices: [{ delta: { content: 'x' } }] })) + t.feed(chunk({ error: { message: 'out of memory' } })) + t.end();
    const events = parseEvents(out);
    assert.equal(events.at(-1)!.event, 'error');
    assert.equal(events.at(-1)!.data.error.type, 'api_error');
    assert.match(events.at(-1)!.data.error.message, /out of memory/);
    assert.ok(!events.some((e) => e.event === 'message_stop'));
  });

  it('an empty stream is still a whole message', () => {
    const events = parseEvents(new AnthropicStreamTranslator('m').end());
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'message_delta', 'message_stop']);
  });
});

describe('reasoning from the backend', () => {
  const completion = { choices: [{ message: { content: 'Answer.', reasoning_content: 'Let me think.' }, finish_reason: 'stop' }] };

  it('becomes a thinking block first when the client enabled thinking, and is dropped otherwise', () => {
    assert.deepEqual(toAnthropicMessage(completion, 'm', [], true).content, [{ type: 'thinking', thinking: 'Let me think.', signature: '' }, { type: 'text', text: 'Answer.' }]);
    assert.deepEqual(toAnthropicMessage(completion, 'm').content, [{ type: 'text', text: 'Answer.' }]);
  });

  it('streams as a thinking block with thinking_delta before the text', () => {
    const upstream = chunk({ choices: [{ delta: { reasoning_content: 'hmm' } }] }) + chunk({ choices: [{ delta: { content: 'ok' }, finish_reason: 'stop' }] }) + 'data: [DONE]\n\n';
    const on = parseEvents(new AnthropicStreamTranslator('m', [], true).feed(upstream));
    assert.deepEqual(on.slice(1, 5).map((e) => e.data.content_block?.type ?? e.data.delta?.type ?? e.event), ['thinking', 'thinking_delta', 'signature_delta', 'content_block_stop']);
    assert.equal(on[2]!.data.delta.thinking, 'hmm');
    assert.equal(on[5]!.data.content_block.type, 'text');
    const off = parseEvents(new AnthropicStreamTranslator('m').feed(upstream));
    assert.ok(!off.some((e) => e.data.content_block?.type === 'thinking'));
  });

  it('reads `reasoning` (as some servers name it) like `reasoning_content`', () => {
    const msg = toAnthropicMessage({ choices: [{ message: { content: 'A.', reasoning: 'Think.' }, finish_reason: 'stop' }] }, 'm', [], true);
    assert.deepEqual(msg.content, [{ type: 'thinking', thinking: 'Think.', signature: '' }, { type: 'text', text: 'A.' }]);
  });

  it('a streamed thinking block opens empty, ends with a signature_delta, and the SDK assembles it', async () => {
    const t = new AnthropicStreamTranslator('m', [], true);
    const out =
      t.feed(chunk({ choices: [{ delta: { role: 'assistant', reasoning: 'Let me ' } }] })) +
      t.feed(chunk({ choices: [{ delta: { reasoning: 'see.' } }] })) +
      t.feed(chunk({ choices: [{ delta: { content: 'Done.' }, finish_reason: 'stop' }] })) +
      t.feed('data: [DONE]\n\n') +
      t.end();
    const events = parseEvents(out);
    assert.deepEqual(events.slice(1, 6).map((e) => e.data), [
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'see.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: '' } },
      { type: 'content_block_stop', index: 0 },
    ]);
    // The SDK's own accumulator (as Claude Code uses it) takes the stream as it is.
    const jsonLines = events.map((e) => JSON.stringify(e.data)).join('\n') + '\n';
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(jsonLines)), c.close()) });
    const final = await MessageStream.fromReadableStream(body).finalMessage();
    assert.deepEqual(final.content, [{ type: 'thinking', thinking: 'Let me see.', signature: '' }, { type: 'text', text: 'Done.' }]);
  });
});
