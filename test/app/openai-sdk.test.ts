// The official `openai` npm client against swapdock (real listening server, real fake-model
// processes): chat (plain, streaming, tool calls), completions, embeddings, a multipart
// transcription upload, an image edit, the model list, errors as the SDK's classes, cancellation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { buildServer, waitFor } from '../support/app-harness.js';

const CONFIG = `instance: app-openai-sdk
models:
  chat:
    image: fake-model:latest
    aliases: [chat-alias]
    upstreamModel: org/chat-7b
    contextLength: 8192
    owner: acme
  whisper: { image: fake-model:latest, upstreamModel: org/whisper-large }
`;

describe('the official openai client', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  let client: OpenAI;
  before(async () => {
    server = await buildServer(CONFIG);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-unused', maxRetries: 0 });
  });
  after(() => server.shutdown());

  it('chat, not streaming, through an alias and the upstream name', async () => {
    const completion = await client.chat.completions.create({ model: 'chat-alias', messages: [{ role: 'user', content: 'hi there' }] });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0]!.message.content, 'Hello from fake-model (model=org/chat-7b)');
    assert.equal(completion.usage?.prompt_tokens, 2);
  });

  it('chat, streaming, chunk by chunk with usage', async () => {
    const params: OpenAI.ChatCompletionCreateParamsStreaming = { model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const stream = await client.chat.completions.create({ ...params, fake_chunks: 4 } as OpenAI.ChatCompletionCreateParamsStreaming); // fake_chunks: the fake backend's knob
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
      if (chunk.usage) usage = chunk.usage;
    }
    assert.deepEqual(pieces, ['Hello from fake-model (model=org/chat-7b)', ' #1', ' #2', ' #3']);
    assert.equal(usage?.completion_tokens, 4);
  });

  it('tool calls: the model asks for the first tool', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    ];
    const completion = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'weather in Paris?' }], tools });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments), 'object');

    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'weather?' }], tools, stream: true });
    const names: string[] = [];
    for await (const chunk of stream) for (const c of chunk.choices[0]?.delta.tool_calls ?? []) if (c.function?.name) names.push(c.function.name);
    assert.deepEqual(names, ['get_weather']);
  });

  it('completions and embeddings', async () => {
    const completion = await client.completions.create({ model: 'chat', prompt: 'Say hi' });
    assert.equal(completion.choices[0]!.text, 'Hello from fake-model (model=org/chat-7b)');
    const embeddings = await client.embeddings.create({ model: 'chat', input: ['one', 'two'], encoding_format: 'float' });
    assert.equal(embeddings.data.length, 2);
    assert.equal(embeddings.data[0]!.embedding.length, 8);
    assert.notDeepEqual(embeddings.data[0]!.embedding, embeddings.data[1]!.embedding);
  });

  it('a multipart transcription upload: the whole file arrives, the model is rewritten', async () => {
    // 3 MiB: over the in-memory threshold, and the SDK sends the file before the model field.
    const audio = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < audio.length; i++) audio[i] = (i * 31) & 255;
    const result = (await client.audio.transcriptions.create({ file: await toFile(audio, 'a.wav'), model: 'whisper', language: 'en' })) as OpenAI.Audio.Transcription & Record<string, any>;
    assert.equal(result.text, `received ${audio.length} bytes`);
    assert.equal(result.model, 'org/whisper-large');
    assert.equal(result.fields.language, 'en');
    assert.equal(result.files[0].sha256, createHash('sha256').update(audio).digest('hex'));

    const translated = await client.audio.translations.create({ file: await toFile(Buffer.from('tiny'), 'b.mp3'), model: 'whisper' });
    assert.equal(translated.text, 'received 4 bytes');
  });

  it('an image edit (multipart, image and prompt)', async () => {
    const png = Buffer.alloc(4096, 9);
    const edited = (await client.images.edit({ image: await toFile(png, 'in.png', { type: 'image/png' }), prompt: 'add a hat', model: 'chat' })) as OpenAI.ImagesResponse & Record<string, any>;
    assert.equal(Buffer.from(edited.data![0]!.b64_json!, 'base64').toString(), 'received 4096 bytes');
    assert.equal(edited.model, 'org/chat-7b');
    assert.equal(edited.fields.prompt, 'add a hat');
  });

  it('lists models with state, aliases, context length and owner', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, ['chat', 'chat-alias', 'whisper']);
    const chat = (await client.models.retrieve('chat')) as OpenAI.Model & Record<string, any>;
    assert.equal(chat.owned_by, 'acme');
    assert.equal(chat.context_length, 8192);
    assert.deepEqual(chat.aliases, ['chat-alias']);
    assert.equal(chat.state, 'ready');
    const whisper = (await client.models.retrieve('whisper')) as OpenAI.Model & Record<string, any>;
    assert.equal(whisper.owned_by, 'swapdock');
    assert.equal(whisper.context_length, undefined);
  });

  it('errors arrive as the SDK error classes', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /'nope' is not configured/);
      return true;
    });
    await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
    await assert.rejects(client.audio.transcriptions.create({ file: await toFile(Buffer.from('x'), 'a.wav'), model: '' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.code, 'missing_model');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'chat', messages: [], fake_status: 400 } as never), OpenAI.BadRequestError);
  });

  it('a client that aborts mid-stream cancels the upstream request', async () => {
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'chat', messages: [{ role: 'user', content: 'long' }], stream: true, fake_chunks: 1000, fake_chunk_delay_ms: 20 } as never,
      { signal: abort.signal },
    ) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let seen = 0;
    // The SDK ends the iteration quietly when its own signal aborts.
    for await (const _chunk of stream) if (++seen === 3) abort.abort();
    assert.equal(seen, 3);
    await waitFor(() => server.scheduler.snapshotOf('chat')!.inFlight === 0, 5000, 'the lease to be released');
    const containerId = server.scheduler.snapshotOf('chat')!.containerId!;
    await waitFor(async () => (await server.runtime.logs(containerId, 50)).some((l) => /client disconnected after \d+ chunks/.test(l)), 5000, 'the backend to see the disconnect');
  });
});
