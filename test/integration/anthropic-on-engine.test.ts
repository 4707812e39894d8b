// The Anthropic SDK against swapdock in front of real Docker and Podman containers that speak only OpenAI:
// /v1/messages translated to chat completions and back, as JSON and as a stream, tool use included.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { useSwapdockOnEngine } from '../support/engine-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, upstreamModel: org/chat-7b, aliases: [claude-haiku-it] }
  native: { image: {{IMAGE}}, pull: never, api: both }
`;

for (const engine of ['docker', 'podman'] as const) describe(`Anthropic Messages on ${engine}`, () => {
  const fixture = useSwapdockOnEngine(engine, MODELS);
  const client = () => new Anthropic({ baseURL: fixture.sd!.url, apiKey: 'sk-it', maxRetries: 0 });

  it('translates a request to an OpenAI-only container and its answer back', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const msg = await client().messages.create({ model: 'claude-haiku-it', max_tokens: 32, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] });
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello from fake-model (model=org/chat-7b)' }]);
    assert.equal(msg.model, 'claude-haiku-it');
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, 4);
  });

  it('translates the stream event by event', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const types: string[] = [];
    const stream = client().messages.stream({ model: 'chat', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], fake_chunks: 4 } as never);
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    assert.equal((final.content[0] as Anthropic.TextBlock).text, 'Hello from fake-model (model=org/chat-7b) #1 #2 #3');
    assert.equal(final.usage.output_tokens, 4);
    assert.equal(types[0], 'message_start');
    assert.equal(types.filter((x) => x === 'content_block_delta').length, 4);
    assert.equal(types.at(-1), 'message_stop');
  });

  it('streams a tool call from the container as a tool_use block', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const tools = [{ name: 'lookup', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } }];
    const final = await client().messages.stream({ model: 'chat', max_tokens: 32, tools, messages: [{ role: 'user', content: 'find' }], fake_tool_args: { q: 'swapdock' } } as never).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual((final.content[0] as Anthropic.ToolUseBlock).input, { q: 'swapdock' });
  });

  it('passes /v1/messages through to a container that speaks Anthropic', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const msg = await client().messages.create({ model: 'native', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'Hello from fake-model (model=native) via messages');
  });
});
