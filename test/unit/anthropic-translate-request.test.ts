// Anthropic Messages request → OpenAI chat completions request (pure translation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAnthropicRequest, renderedText, toOpenAIChat, wantsThinking } from '../../src/proxy/anthropic/translate-request.js';
import { BadRequestError } from '../../src/errors.js';

const translate = (body: Record<string, unknown>, model = 'm') => toOpenAIChat(checkAnthropicRequest({ model: 'client-name', ...body }), model);

describe('translating an Anthropic request to OpenAI chat completions', () => {
  it('maps text messages, sampling fields and stop sequences; drops metadata', () => {
    const out = translate({
      max_tokens: 100, temperature: 0.3, top_p: 0.9, top_k: 40, stop_sequences: ['END'], metadata: { user_id: 'u' },
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
    });
    assert.deepEqual(out, {
      model: 'm', max_tokens: 100, temperature: 0.3, top_p: 0.9, top_k: 40, stop: ['END'],
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'a\nb' }],
    });
  });

  it('puts the system prompt (a string or text blocks) first', () => {
    assert.deepEqual(translate({ system: 'be brief', messages: [{ role: 'user', content: 'x' }] }).messages, [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'x' }]);
    const blocks = translate({ system: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'x' }] });
    assert.deepEqual((blocks.messages as unknown[])[0], { role: 'system', content: 'one\ntwo' });
  });

  it('asks for a stream with usage in its last chunk', () => {
    const out = translate({ stream: true, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(out.stream, true);
    assert.deepEqual(out.stream_options, { include_usage: true });
  });

  it('turns base64 images into data URIs and keeps text beside them', () => {
    const out = translate({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } }, { type: 'text', text: 'what is it?' }] }] });
    assert.deepEqual((out.messages as unknown[])[0], {
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } }, { type: 'text', text: 'what is it?' }],
    });
  });

  it('maps tool definitions and every tool_choice', () => {
    const tools = [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const auto = translate({ tools, messages: [{ role: 'user', content: 'x' }] });
    assert.deepEqual(auto.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: tools[0]!.input_schema } }]);
    assert.equal(auto.tool_choice, undefined);
    assert.equal(translate({ tools, tool_choice: { type: 'auto' }, messages: [] }).tool_choice, 'auto');
    assert.equal(translate({ tools, tool_choice: { type: 'any' }, messages: [] }).tool_choice, 'required');
    const one = translate({ tools, tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true }, messages: [] });
    assert.deepEqual(one.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.equal(one.parallel_tool_calls, false);
    const none = translate({ tools, tool_choice: { type: 'none' }, messages: [] });
    assert.equal(none.tools, undefined, 'tool_choice none: no tools offered');
  });

  it('maps tool_use blocks to tool_calls and tool_result blocks to tool messages, in order', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '21 C' }] }, { type: 'text', text: 'and tomorrow?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'no data', is_error: true }] },
      ],
    });
    assert.deepEqual(out.messages, [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '21 C' },
      { role: 'user', content: 'and tomorrow?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: no data' },
    ]);
  });

  it('refuses a body without a messages array, or with a message of no role', () => {
    assert.throws(() => checkAnthropicRequest({ model: 'm' }), BadRequestError);
    assert.throws(() => checkAnthropicRequest({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }), /messages\.0\.role/);
    assert.throws(() => checkAnthropicRequest({ model: 'm', messages: [{ content: 'x' }] }), /messages\.0\.role/);
  });

  it('renders the text a model would read, for counting tokens', () => {
    const text = renderedText(checkAnthropicRequest({ model: 'm', system: 'sys', tools: [{ name: 't', input_schema: {} }], messages: [{ role: 'user', content: 'hello there' }] }));
    assert.match(text, /sys/);
    assert.match(text, /hello there/);
    assert.match(text, /\bt\b/);
  });
});

describe('fields with no Anthropic meaning', () => {
  it('are passed on as they are (backend-specific sampling), Anthropic-only ones dropped', () => {
    const out = toOpenAIChat(checkAnthropicRequest({ model: 'x', messages: [], min_p: 0.05, thinking: { type: 'enabled' }, service_tier: 'auto' }), 'm');
    assert.equal(out.min_p, 0.05);
    assert.equal(out.thinking, undefined);
    assert.equal(out.service_tier, undefined);
  });
});

describe('thinking', () => {
  it('is asked for with thinking.type enabled or adaptive', () => {
    assert.equal(wantsThinking(checkAnthropicRequest({ model: 'x', messages: [], thinking: { type: 'enabled', budget_tokens: 1024 } })), true);
    assert.equal(wantsThinking(checkAnthropicRequest({ model: 'x', messages: [], thinking: { type: 'disabled' } })), false);
    assert.equal(wantsThinking(checkAnthropicRequest({ model: 'x', messages: [] })), false);
  });

  it('thinking blocks of earlier turns are dropped from the history', () => {
    const out = toOpenAIChat(checkAnthropicRequest({ model: 'x', messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: '' }, { type: 'text', text: 'Hi' }] }] }), 'm');
    assert.deepEqual(out.messages, [{ role: 'assistant', content: 'Hi' }]);
  });
});
