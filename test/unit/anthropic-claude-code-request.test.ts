// What current Claude Code sends to /v1/messages, translated for an OpenAI-only backend: system
// messages inside `messages` (the mid-conversation-system beta), Anthropic-only top-level fields,
// cache_control everywhere, server tools, thinking blocks in the history and block types newer
// than swapdock. None of that may be a 400; what is really malformed still is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../src/errors.js';
import { logDroppedOnce } from '../../src/proxy/anthropic/dropped-log.js';
import { checkAnthropicRequest, toOpenAIChat, wantsThinking } from '../../src/proxy/anthropic/translate-request.js';

type Json = Record<string, unknown>;

const ephemeral = { type: 'ephemeral' };
const bashSchema = { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] };

/** A body shaped like Claude Code's (2.x) `POST /v1/messages?beta=true`, trimmed. */
function claudeCodeBody(): Json {
  return {
    model: 'coder',
    max_tokens: 32000,
    stream: true,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: ephemeral },
      { type: 'text', text: 'You are an interactive CLI tool.', cache_control: ephemeral },
    ],
    messages: [
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>context</system-reminder>' }, { type: 'text', text: 'list the files', cache_control: ephemeral }] },
      { role: 'system', content: [{ type: 'text', text: 'Plan mode is active.', cache_control: ephemeral }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I should run ls.', signature: 'c2ln' },
          { type: 'text', text: "I'll look." },
          { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt\nb.txt', cache_control: ephemeral }] },
      {
        role: 'assistant',
        content: [
          { type: 'redacted_thinking', data: 'xxxx' },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'ls' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
          { type: 'text', text: 'Two files.', citations: [] },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'thanks' }, { type: 'mystery_block_2099', payload: 1 }] },
    ],
    tools: [
      { name: 'Bash', description: 'Runs a shell command', input_schema: bashSchema, cache_control: ephemeral },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
    ],
    metadata: { user_id: 'user_abc_account__session_1' },
    thinking: { type: 'adaptive' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
    temperature: 1,
  };
}

function translate(body: Json): { out: Json; dropped: Set<string> } {
  const dropped = new Set<string>();
  const out = toOpenAIChat(checkAnthropicRequest(body, { requireMaxTokens: true }), 'org/coder', (what) => dropped.add(what));
  return { out, dropped };
}

describe('a Claude Code request for an OpenAI-only backend', () => {
  it('is accepted and translated: system messages folded first, history kept, Anthropic-only parts dropped', () => {
    const { out } = translate(claudeCodeBody());
    assert.deepEqual(out, {
      model: 'org/coder',
      max_tokens: 32000,
      temperature: 1,
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: "You are Claude Code, Anthropic's official CLI for Claude.\nYou are an interactive CLI tool.\n\nPlan mode is active." },
        { role: 'user', content: '<system-reminder>context</system-reminder>\nlist the files' },
        { role: 'assistant', content: "I'll look.", tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'a.txt\nb.txt' },
        { role: 'assistant', content: 'Two files.' },
        { role: 'user', content: 'thanks' },
      ],
      tools: [{ type: 'function', function: { name: 'Bash', description: 'Runs a shell command', parameters: bashSchema } }],
    });
  });

  it('reports each dropped field, block type, tool type and block property by name', () => {
    const { dropped } = translate(claudeCodeBody());
    assert.deepEqual([...dropped].sort(), [
      'block mystery_block_2099', 'block redacted_thinking', 'block server_tool_use', 'block thinking', 'block web_search_tool_result',
      'cache_control', 'citations', 'field context_management', 'field metadata', 'field thinking', 'output_config.effort', 'tool web_search_20250305',
    ]);
  });

  it('asks for thinking blocks back (thinking: adaptive)', () => {
    assert.equal(wantsThinking(checkAnthropicRequest(claudeCodeBody())), true);
  });
});

describe('system messages inside messages', () => {
  it('become the leading system message without a top-level system, a string or text blocks', () => {
    const { out } = translate({ max_tokens: 8, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }, { role: 'system', content: [{ type: 'text', text: 'Now in French.' }] }] });
    assert.deepEqual(out.messages, [{ role: 'system', content: 'Be terse.\n\nNow in French.' }, { role: 'user', content: 'hi' }]);
  });

  it('leave no two user turns side by side (Anthropic combines consecutive turns too)', () => {
    const { out } = translate({
      max_tokens: 8,
      messages: [
        { role: 'user', content: 'one' },
        { role: 'system', content: 'note' },
        { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/i.png' } }, { type: 'text', text: 'two' }] },
      ],
    });
    assert.deepEqual(out.messages, [
      { role: 'system', content: 'note' },
      { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'image_url', image_url: { url: 'https://x/i.png' } }, { type: 'text', text: 'two' }] },
    ]);
  });

  it('an assistant turn that held only thinking is left out, not sent empty', () => {
    const { out } = translate({ max_tokens: 8, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: '' }] }, { role: 'user', content: 'b' }] });
    assert.deepEqual(out.messages, [{ role: 'user', content: 'a\nb' }]);
  });
});

describe('tools and other fields', () => {
  it('keeps tools with an input_schema as functions, drops schema-less Anthropic-defined and server tools', () => {
    const { out, dropped } = translate({
      max_tokens: 8, messages: [],
      tools: [
        { type: 'custom', name: 'a', input_schema: { type: 'object' }, strict: true },
        { type: 'bash_20250124', name: 'bash' },
        { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
        { type: 'code_execution_20250825', name: 'code_execution' },
      ],
    });
    assert.deepEqual(out.tools, [{ type: 'function', function: { name: 'a', parameters: { type: 'object' }, strict: true } }]);
    assert.ok(dropped.has('tool bash_20250124') && dropped.has('tool text_editor_20250728') && dropped.has('tool code_execution_20250825'));
  });

  it('tool_choice none offers no tools; an unknown tool_choice type is auto', () => {
    const tools = [{ name: 'a', input_schema: { type: 'object' } }];
    assert.equal(translate({ max_tokens: 8, messages: [], tools, tool_choice: { type: 'none' } }).out.tools, undefined);
    const later = translate({ max_tokens: 8, messages: [], tools, tool_choice: { type: 'some_future_mode' } });
    assert.equal(later.out.tool_choice, 'auto');
    assert.ok(later.dropped.has('tool_choice some_future_mode'));
  });

  it('structured output (output_config.format) becomes response_format', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const { out } = translate({ max_tokens: 8, messages: [], output_config: { format: { type: 'json_schema', schema } } });
    assert.deepEqual(out.response_format, { type: 'json_schema', json_schema: { name: 'output', schema } });
    assert.equal(out.output_config, undefined);
  });

  it('a text document reads as text; a PDF is dropped', () => {
    const { out, dropped } = translate({
      max_tokens: 8,
      messages: [{ role: 'user', content: [
        { type: 'document', title: 'notes.txt', source: { type: 'text', media_type: 'text/plain', data: 'buy milk' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
        { type: 'search_result', source: 'https://x', title: 't', content: [{ type: 'text', text: 'r' }] },
        { type: 'text', text: 'summarise' },
      ] }],
    });
    assert.deepEqual(out.messages, [{ role: 'user', content: 'notes.txt\nbuy milk\nsummarise' }]);
    assert.ok(dropped.has('document source base64') && dropped.has('block search_result'));
  });
});

describe('what is really malformed is still a 400 that says what to do', () => {
  const base = { model: 'm', max_tokens: 8 };
  const refuses = (body: Json, pattern: RegExp) => assert.throws(() => checkAnthropicRequest({ ...base, ...body }, { requireMaxTokens: true }), (err: unknown) => err instanceof BadRequestError && pattern.test(err.message));

  it('messages, roles, content and blocks', () => {
    refuses({ messages: 'hi' }, /messages: .*array/);
    refuses({ messages: ['hi'] }, /messages\.0: .*object/);
    refuses({ messages: [{ role: 'user', content: 'x' }, { role: 'developer', content: 'x' }] }, /messages\.1\.role: must be "user", "assistant" or "system"; got "developer"/);
    refuses({ messages: [{ role: 'system', content: 42 }] }, /messages\.0\.content: must be a string or an array/);
    refuses({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { text: 'b' }] }] }, /messages\.0\.content\.1: .*"type"/);
  });

  it('max_tokens missing or not a whole number (on /v1/messages; count_tokens has none)', () => {
    const messages = [{ role: 'user', content: 'x' }];
    assert.throws(() => checkAnthropicRequest({ model: 'm', messages }, { requireMaxTokens: true }), /max_tokens: required.*got nothing/);
    refuses({ messages, max_tokens: '100' }, /max_tokens: .*got "100"/);
    refuses({ messages, max_tokens: 0 }, /max_tokens/);
    assert.doesNotThrow(() => checkAnthropicRequest({ model: 'm', messages }));
  });

  it('tools without a name, tool_choice without a type', () => {
    refuses({ messages: [], tools: [{ input_schema: { type: 'object' } }] }, /tools\.0\.name/);
    refuses({ messages: [], tools: [{ name: 'a', input_schema: 'object' }] }, /tools\.0\.input_schema/);
    refuses({ messages: [], tool_choice: 'auto' }, /tool_choice: must be an object/);
    refuses({ messages: [], tool_choice: { type: 'tool' } }, /tool_choice\.name/);
  });
});

describe('logging what was dropped', () => {
  it('logs each name once per process, at debug level', () => {
    const lines: unknown[] = [];
    const log = { debug: (obj: unknown) => void lines.push(obj) };
    const name = `field unit-test-${process.pid}-${Date.now()}`;
    logDroppedOnce(log as never, name);
    logDroppedOnce(log as never, name);
    logDroppedOnce(log as never, `${name}-other`);
    assert.deepEqual(lines, [{ dropped: name }, { dropped: `${name}-other` }]);
  });
});
