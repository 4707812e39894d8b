// The Vercel AI SDK (`ai`) through swapdock to a real container on Docker and Podman, with its
// OpenAI-compatible provider (chat completions and embeddings passed through) and its Anthropic
// provider (/v1/messages translated for an OpenAI-only backend): generateText, streamText, a
// tool round trip, embed/embedMany, and an abort mid-stream that frees the model's slot.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embed, embedMany, generateText, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { z } from 'zod';
import { backendRequests, chatRequests, clearBackendRequests, containerLog, eventually, inFlight, versions } from '../support/clients.js';
import { useSwapdockOnEngine } from '../support/engine-harness.js';
import type { EngineSwapdock } from '../support/engine-harness.js';

// One container serves it all; tool calls come with {"city":"Paris"} (no body field needed, so
// the Anthropic provider gets them too).
const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, upstreamModel: org/chat-7b, env: { FAKE_TOOL_ARGS: '{"city":"Paris"}' } }
`;
const GREETING = 'Hello from fake-model (model=org/chat-7b)';

const weather = tool({
  description: 'The weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

/** Both providers, so every behaviour is checked through each API swapdock offers. */
function providers(sd: EngineSwapdock): Array<[string, LanguageModel]> {
  const openai = createOpenAICompatible({ name: 'swapdock', baseURL: `${sd.url}/v1`, apiKey: 'sk-clients' });
  const anthropic = createAnthropic({ baseURL: `${sd.url}/v1`, apiKey: 'sk-clients' });
  return [['openai-compatible', openai.chatModel('chat')], ['anthropic', anthropic('chat')]];
}

async function assertToolRoundTrip(sd: EngineSwapdock, how: string): Promise<void> {
  const sent = chatRequests(await backendRequests(sd, 'chat'));
  const followUp = sent.find((r) => r.body.messages.some((m: any) => m.role === 'tool'));
  assert.ok(followUp, `${how}: the tool result went back to the backend`);
  const call = followUp.body.messages.find((m: any) => m.role === 'assistant')?.tool_calls?.[0];
  assert.equal(call?.function.name, 'weather');
  const result = followUp.body.messages.find((m: any) => m.role === 'tool');
  assert.equal(result.tool_call_id, call.id);
  assert.match(JSON.stringify(result.content), /sunny in Paris/);
}

for (const engine of ['docker', 'podman'] as const) describe(`Vercel AI SDK (${versions('ai', '@ai-sdk/openai-compatible', '@ai-sdk/anthropic')}) on ${engine}`, () => {
  const fixture = useSwapdockOnEngine(engine, MODELS);

  it('generateText and streamText, through both providers', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    for (const [how, model] of providers(fixture.sd)) {
      const generated = await generateText({ model, prompt: 'hi', maxOutputTokens: 64, maxRetries: 0 });
      assert.equal(generated.text, GREETING, how);
      assert.equal(generated.finishReason, 'stop', how);
      assert.ok((generated.usage.outputTokens ?? 0) > 0, `${how}: usage came back`);

      const streamed = streamText({ model, prompt: 'hi', maxOutputTokens: 64, maxRetries: 0 });
      const pieces: string[] = [];
      for await (const piece of streamed.textStream) pieces.push(piece);
      assert.equal(pieces.join(''), `${GREETING} #1 #2 #3 #4`, how);
      assert.ok(pieces.length > 1, `${how}: it arrived in pieces`);
      assert.equal(await streamed.finishReason, 'stop', how);
    }
  });

  it('a tool round trip, through both providers (generated and streamed)', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    for (const [how, model] of providers(fixture.sd)) {
      await clearBackendRequests(fixture.sd, 'chat');
      const generated = await generateText({ model, prompt: 'weather in Paris?', tools: { weather }, stopWhen: stepCountIs(3), maxOutputTokens: 64, maxRetries: 0 });
      assert.equal(generated.steps.length, 2, `${how}: a tool step, then the answer`);
      assert.deepEqual(generated.steps[0]!.toolCalls.map((c) => [c.toolName, c.input]), [['weather', { city: 'Paris' }]], how);
      assert.deepEqual(generated.steps[0]!.toolResults.map((r) => r.output), ['sunny in Paris'], how);
      assert.equal(generated.text, GREETING, how);
      await assertToolRoundTrip(fixture.sd, `${how} generateText`);

      await clearBackendRequests(fixture.sd, 'chat');
      const streamed = streamText({ model, prompt: 'weather in Paris?', tools: { weather }, stopWhen: stepCountIs(3), maxOutputTokens: 64, maxRetries: 0 });
      assert.equal(await streamed.text, `${GREETING} #1 #2 #3 #4`, how);
      assert.equal((await streamed.steps).length, 2, how);
      await assertToolRoundTrip(fixture.sd, `${how} streamText`);
    }
  });

  it('embed and embedMany (openai-compatible)', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const model = createOpenAICompatible({ name: 'swapdock', baseURL: `${fixture.sd.url}/v1`, apiKey: 'sk-clients' }).embeddingModel('chat');
    const one = await embed({ model, value: 'sunny day', maxRetries: 0 });
    assert.equal(one.embedding.length, 8);
    const many = await embedMany({ model, values: ['rainy day', 'sunny day'], maxRetries: 0 });
    assert.equal(many.embeddings.length, 2);
    assert.deepEqual(many.embeddings[1], one.embedding, 'the same text, the same vector');
    assert.notDeepEqual(many.embeddings[0], one.embedding);
    const sent = (await backendRequests(fixture.sd, 'chat')).filter((r) => r.path === '/v1/embeddings');
    assert.deepEqual(sent.at(-1)?.body.input, ['rainy day', 'sunny day'], 'one request for the batch');
  });

  it('an abort mid-stream cuts the backend stream and frees the slot', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const model = createOpenAICompatible({ name: 'swapdock', baseURL: `${fixture.sd.url}/v1`, apiKey: 'sk-clients' }).chatModel('chat');
    const controller = new AbortController();
    const streamed = streamText({
      model,
      prompt: 'a long story',
      abortSignal: controller.signal,
      maxRetries: 0,
      providerOptions: { swapdock: { fake_chunks: 200, fake_chunk_delay_ms: 50 } },
    });
    const pieces: string[] = [];
    let error: unknown;
    try {
      for await (const piece of streamed.textStream) {
        pieces.push(piece);
        if (pieces.length === 3) {
          assert.equal(await inFlight(fixture.sd, 'chat'), 1, 'the stream holds the slot while it runs');
          controller.abort();
        }
      }
    } catch (err) {
      error = err;
    }
    assert.ok(pieces.length >= 3 && pieces.length < 200, `stopped early (after ${pieces.length} pieces${error ? `, ${String(error)}` : ''})`);
    await eventually(async () => assert.equal(await inFlight(fixture.sd!, 'chat'), 0, 'in flight back to 0'));
    await eventually(async () => assert.match(await containerLog(fixture.sd!, 'chat'), /client disconnected after \d+ chunks/));
  });
});
