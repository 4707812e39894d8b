// LangChain JS through swapdock to a real container on Docker and Podman: ChatOpenAI (invoke and
// stream) and OpenAIEmbeddings through the OpenAI API, ChatAnthropic (invoke and stream) through
// /v1/messages translated for an OpenAI-only backend.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { backendRequests, chatRequests, versions } from '../support/clients.js';
import { useSwapdockOnEngine } from '../support/engine-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, upstreamModel: org/chat-7b, aliases: [claude-chat] }
`;
const GREETING = 'Hello from fake-model (model=org/chat-7b)';
const text = (content: unknown): string =>
  typeof content === 'string' ? content : (content as Array<{ text?: string }>).map((p) => p.text ?? '').join('');

for (const engine of ['docker', 'podman'] as const) describe(`LangChain JS (${versions('@langchain/core', '@langchain/openai', '@langchain/anthropic')}) on ${engine}`, () => {
  const fixture = useSwapdockOnEngine(engine, MODELS);
  const openaiConfig = () => ({ apiKey: 'sk-clients', maxRetries: 0, configuration: { baseURL: `${fixture.sd!.url}/v1` } });

  it('ChatOpenAI: invoke and stream', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const chat = new ChatOpenAI({ model: 'chat', ...openaiConfig(), modelKwargs: { fake_chunks: 3 } });
    const answer = await chat.invoke('hi');
    assert.equal(text(answer.content), GREETING);
    assert.ok((answer.usage_metadata?.output_tokens ?? 0) > 0, 'usage came back');

    const pieces: string[] = [];
    let usage = 0;
    for await (const chunk of await chat.stream('hi')) {
      pieces.push(text(chunk.content));
      usage += chunk.usage_metadata?.output_tokens ?? 0;
    }
    assert.equal(pieces.join(''), `${GREETING} #1 #2`);
    assert.ok(pieces.filter(Boolean).length > 1, 'it arrived in pieces');
    assert.equal(usage, 3, 'the usage chunk (stream_options.include_usage) came through');
    const sent = chatRequests(await backendRequests(fixture.sd, 'chat')).at(-1);
    assert.equal(sent?.body.model, 'org/chat-7b');
    assert.equal(sent?.body.stream, true);
  });

  it('OpenAIEmbeddings: embedQuery and embedDocuments', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const embeddings = new OpenAIEmbeddings({ model: 'chat', ...openaiConfig() });
    const query = await embeddings.embedQuery('sunny day');
    assert.equal(query.length, 8);
    assert.ok(query.every((x) => Number.isFinite(x) && x >= -1 && x <= 1), `numbers: ${JSON.stringify(query)}`);
    const docs = await embeddings.embedDocuments(['rainy day', 'sunny day']);
    assert.equal(docs.length, 2);
    assert.deepEqual(docs[1], query, 'the same text, the same vector');
    assert.notDeepEqual(docs[0], query);
    const sent = (await backendRequests(fixture.sd, 'chat')).filter((r) => r.path === '/v1/embeddings');
    assert.equal(sent.at(-1)?.body.encoding_format, 'base64', 'the SDK asked for base64 and decoded the answer');
    assert.deepEqual(sent.at(-1)?.body.input, ['rainy day', 'sunny day']);
  });

  it('ChatAnthropic: invoke and stream (translated to chat completions)', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const chat = new ChatAnthropic({ model: 'claude-chat', apiKey: 'sk-clients', anthropicApiUrl: fixture.sd.url, maxRetries: 0, maxTokens: 64 });
    const answer = await chat.invoke([['system', 'Be brief.'], ['human', 'hi']]);
    assert.equal(text(answer.content), GREETING);
    assert.equal(answer.response_metadata.stop_reason, 'end_turn');

    const pieces: string[] = [];
    for await (const chunk of await chat.stream('hi')) pieces.push(text(chunk.content));
    assert.equal(pieces.join(''), `${GREETING} #1 #2 #3 #4`);
    assert.ok(pieces.filter(Boolean).length > 1, 'it arrived in pieces');
    const sent = chatRequests(await backendRequests(fixture.sd, 'chat'));
    const system = sent.find((r) => r.body.messages[0]?.role === 'system');
    assert.equal(system?.body.messages[0].content, 'Be brief.', 'the system prompt became a system message');
    assert.equal(sent.at(-1)?.body.stream, true);
  });
});
