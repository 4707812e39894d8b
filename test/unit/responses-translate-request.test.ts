// OpenAI Responses request → chat completions request: instructions and input items, tools
// (functions, namespaced and custom tools flattened, hosted tools dropped), tool_choice, the
// fields passed on or dropped, and what is refused before anything is forwarded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../src/errors.js';
import { checkResponsesRequest, toChatCompletion } from '../../src/proxy/responses/translate-request.js';

function translate(body: Record<string, unknown>) {
  const dropped: string[] = [];
  const { chat, tools } = toChatCompletion(checkResponsesRequest({ model: 'm', ...body }), 'backend-m', (what) => dropped.push(what));
  return { chat: chat as any, tools, dropped };
}

const shellTool = { type: 'function', name: 'exec_command', description: 'Runs a command', strict: false, parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } };
const agents = {
  type: 'namespace', name: 'multi_agent_v1', description: 'Tools for sub-agents.',
  tools: [{ type: 'function', name: 'spawn_agent', description: 'Spawn one', parameters: { type: 'object', properties: { task: { type: 'string' } } } }],
};

describe('Responses request → chat completions', () => {
  it('translates a request as Codex sends it: developer messages folded into one system message, user turns joined, Responses-only fields dropped', () => {
    const { chat, dropped } = translate({
      stream: true, store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'k', client_metadata: { a: 'b' }, reasoning: { summary: 'auto' },
      tool_choice: 'auto', parallel_tool_calls: true, tools: [shellTool, agents, { type: 'web_search', external_web_access: false }],
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<skills>' }, { type: 'input_text', text: '<permissions>' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context/>' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say hi' }] },
      ],
    });
    assert.equal(chat.model, 'backend-m');
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'You are Codex.\n\n<skills><permissions>' },
      { role: 'user', content: '<environment_context/>\nsay hi' },
    ]);
    assert.equal(chat.stream, true);
    assert.deepEqual(chat.stream_options, { include_usage: true }, 'streamed usage is asked of the backend');
    assert.equal(chat.parallel_tool_calls, true);
    assert.equal(chat.tool_choice, undefined, 'auto is the backend default');
    for (const field of ['store', 'include', 'prompt_cache_key', 'client_metadata', 'reasoning', 'input', 'instructions']) assert.equal(chat[field], undefined, field);
    assert.deepEqual(dropped.sort(), ['field client_metadata', 'field include', 'field prompt_cache_key', 'field store', 'reasoning.summary', 'tool web_search']);
  });

  it('turns function tools into functions and flattens namespaced ones into <namespace>__<name>, remembering the names', () => {
    const { chat, tools } = translate({ input: 'hi', tools: [shellTool, agents] });
    assert.deepEqual(chat.tools, [
      { type: 'function', function: { name: 'exec_command', description: 'Runs a command', parameters: shellTool.parameters, strict: false } },
      { type: 'function', function: { name: 'multi_agent_v1__spawn_agent', description: 'Tools for sub-agents.\n\nSpawn one', parameters: agents.tools[0]!.parameters } },
    ]);
    assert.deepEqual(tools.get('multi_agent_v1__spawn_agent'), { name: 'spawn_agent', namespace: 'multi_agent_v1', custom: false });
    assert.deepEqual(tools.get('exec_command'), { name: 'exec_command', custom: false });
  });

  it('drops every tool a chat backend cannot run, never refusing the request; no tools left = no tools field', () => {
    const hosted = ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'computer_use_preview', 'image_generation', 'mcp', 'local_shell', 'tool_search', 'some_future_tool'];
    const { chat, dropped } = translate({ input: 'hi', tools: hosted.map((type) => ({ type })), tool_choice: 'required', parallel_tool_calls: false });
    assert.equal(chat.tools, undefined);
    assert.equal(chat.tool_choice, undefined, 'a tool_choice without tools would be refused by the backend');
    assert.equal(chat.parallel_tool_calls, undefined);
    assert.deepEqual(dropped, hosted.map((t) => `tool ${t}`));
  });

  it('flattens custom (free-form) tools into a function taking one string, its grammar in the description', () => {
    const { chat, tools } = translate({ input: 'hi', tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files', format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' } }] });
    assert.equal(chat.tools[0].function.name, 'apply_patch');
    assert.equal(chat.tools[0].function.description, 'Edit files');
    assert.deepEqual(chat.tools[0].function.parameters.required, ['input']);
    assert.match(chat.tools[0].function.parameters.properties.input.description, /lark grammar:\nstart: "\*\*\* Begin Patch"/);
    assert.deepEqual(tools.get('apply_patch'), { name: 'apply_patch', custom: true });
  });

  it('maps tool_choice: required, none (no tools at all), a function by name (namespaced too), allowed_tools by its mode', () => {
    assert.equal(translate({ input: 'x', tools: [shellTool], tool_choice: 'required' }).chat.tool_choice, 'required');
    const none = translate({ input: 'x', tools: [shellTool], tool_choice: 'none' }).chat;
    assert.equal(none.tools, undefined);
    assert.equal(none.tool_choice, undefined);
    assert.deepEqual(translate({ input: 'x', tools: [shellTool], tool_choice: { type: 'function', name: 'exec_command' } }).chat.tool_choice, { type: 'function', function: { name: 'exec_command' } });
    assert.deepEqual(translate({ input: 'x', tools: [agents], tool_choice: { type: 'function', name: 'spawn_agent', namespace: 'multi_agent_v1' } }).chat.tool_choice, { type: 'function', function: { name: 'multi_agent_v1__spawn_agent' } });
    const allowed = translate({ input: 'x', tools: [shellTool], tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'exec_command' }] } });
    assert.equal(allowed.chat.tool_choice, 'required');
    const hosted = translate({ input: 'x', tools: [shellTool], tool_choice: { type: 'web_search_preview' } });
    assert.equal(hosted.chat.tool_choice, undefined);
    assert.deepEqual(hosted.dropped, ['tool_choice web_search_preview']);
  });

  it('translates a history: assistant text and its function calls in one turn, outputs as tool messages, namespaced and custom calls flattened', () => {
    const { chat } = translate({
      instructions: 'Be brief.',
      tools: [shellTool],
      input: [
        { role: 'user', content: 'list files' },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'xyz' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Listing.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
        { type: 'function_call', call_id: 'call_2', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'a.txt' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'agent ' }, { type: 'input_text', text: 'started' }] },
        { type: 'custom_tool_call', call_id: 'call_3', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'call_3', output: 'Done' },
        { role: 'assistant', content: 'Done.' },
        { role: 'user', content: [{ type: 'input_text', text: 'thanks' }] },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'list files' },
      {
        role: 'assistant', content: 'Listing.', tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } },
          { id: 'call_2', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'a.txt' },
      { role: 'tool', tool_call_id: 'call_2', content: 'agent started' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } }] },
      { role: 'tool', tool_call_id: 'call_3', content: 'Done' },
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('keeps images given by URL, drops what a chat backend cannot take (files, reasoning, hosted tool calls, item references)', () => {
    const { chat, dropped } = translate({
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: 'data:image/png;base64,AAA', detail: 'low' }, { type: 'input_file', file_id: 'f1' }] },
        { type: 'reasoning', summary: [] },
        { type: 'web_search_call', status: 'completed', action: { type: 'search' } },
        { type: 'item_reference', id: 'x' },
      ],
    });
    assert.deepEqual(chat.messages, [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } }] }]);
    assert.deepEqual(dropped, ['content input_file', 'item reasoning', 'item web_search_call', 'item item_reference']);
  });

  it('maps max_output_tokens, temperature, top_p, text.format and reasoning.effort; passes the backend\'s own fields on', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const { chat, dropped } = translate({
      input: 'x', max_output_tokens: 99, temperature: 0.2, top_p: 0.9, top_k: 40, min_p: 0.05, fake_tool_args: { a: 1 },
      text: { format: { type: 'json_schema', name: 'thing', schema, strict: true }, verbosity: 'low' }, reasoning: { effort: 'high' }, metadata: { a: '1' },
    });
    assert.equal(chat.max_tokens, 99);
    assert.equal(chat.temperature, 0.2);
    assert.equal(chat.top_p, 0.9);
    assert.equal(chat.top_k, 40);
    assert.equal(chat.min_p, 0.05);
    assert.deepEqual(chat.fake_tool_args, { a: 1 });
    assert.equal(chat.reasoning_effort, 'high');
    assert.deepEqual(chat.response_format, { type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } });
    assert.equal(chat.stream, undefined);
    assert.equal(chat.stream_options, undefined);
    assert.deepEqual(dropped.sort(), ['field metadata', 'text.verbosity']);
    assert.deepEqual(translate({ input: 'x', text: { format: { type: 'json_object' } } }).chat.response_format, { type: 'json_object' });
    assert.equal(translate({ input: 'x', text: { format: { type: 'text' } } }).chat.response_format, undefined);
  });
});

describe('what a Responses request may not be', () => {
  const refused = (body: Record<string, unknown>, message: RegExp, code = 'invalid_request') =>
    assert.throws(() => checkResponsesRequest({ model: 'm', ...body }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });

  it('refuses malformed input, naming the field', () => {
    refused({}, /^input: the request needs an "input"/, 'invalid_input');
    refused({ input: 42 }, /input: .*got 42/, 'invalid_input');
    refused({ input: ['hi'] }, /^input\.0: each input item must be an object/, 'invalid_input');
    refused({ input: [{ role: 'robot', content: 'x' }] }, /^input\.0\.role: must be "user", "assistant", "system" or "developer"; got "robot"/, 'invalid_input');
    refused({ input: [{ role: 'user', content: 7 }] }, /^input\.0\.content: must be a string or an array/, 'invalid_input');
    refused({ input: [{ role: 'user', content: [{ text: 'no type' }] }] }, /^input\.0\.content\.0: each content part must be an object with a "type"/, 'invalid_input');
    refused({ input: [{ type: 'function_call', name: 'f' }] }, /^input\.0: a function_call needs "call_id" and "name"/, 'invalid_input');
    refused({ input: [{ type: 'function_call_output', output: 'x' }] }, /^input\.0\.call_id: a function_call_output needs the "call_id"/, 'invalid_input');
    refused({ input: 'x', instructions: ['a'] }, /^instructions: must be a string/);
    refused({ input: 'x', tools: {} }, /^tools: must be an array/);
    refused({ input: 'x', tools: [{ name: 'f' }] }, /^tools\.0: each tool must be an object with a "type"/);
    refused({ input: 'x', tools: [{ type: 'function' }] }, /^tools\.0\.name: a function tool needs a name/);
    refused({ input: 'x', tools: [{ type: 'namespace', name: 'n', tools: [{ type: 'function', name: '' }] }] }, /^tools\.0\.tools\.0\.name: a function tool needs a name/);
    refused({ input: 'x', tools: [{ type: 'function', name: 'f', parameters: 'none' }] }, /^tools\.0\.parameters: must be a JSON Schema object/);
    refused({ input: 'x', tool_choice: 3 }, /^tool_choice: must be "auto"/);
    refused({ input: 'x', stream: 'yes' }, /^stream: must be true or false/);
  });

  it('refuses previous_response_id and conversation: a translation keeps no stored responses', () => {
    refused({ input: 'x', previous_response_id: 'resp_1' }, /^previous_response_id: swapdock translates \/v1\/responses .* Send the whole conversation in "input".*responses: passthrough/, 'unsupported_parameter');
    refused({ input: 'x', conversation: 'conv_1' }, /^conversation: /, 'unsupported_parameter');
    assert.doesNotThrow(() => checkResponsesRequest({ model: 'm', input: 'x', previous_response_id: null }));
  });

  it('takes item, content and tool types it does not know', () => {
    assert.doesNotThrow(() => checkResponsesRequest({ model: 'm', input: [{ type: 'future_item', x: 1 }, { role: 'user', content: [{ type: 'input_video', url: 'x' }] }], tools: [{ type: 'future_tool' }] }));
  });
});
