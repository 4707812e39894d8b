// The official `openai` client against swapdock in front of real Docker and Podman containers: a streamed
// chat, a multipart transcription upload (file before model, as the SDK sends it), and a
// WebSocket through /upstream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { WebSocket } from 'undici';
import { useSwapdockOnEngine } from '../support/engine-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, upstreamModel: org/chat-7b, contextLength: 4096 }
  whisper: { image: {{IMAGE}}, pull: never }
`;

for (const engine of ['docker', 'podman'] as const) describe(`the openai client on ${engine}`, () => {
  const fixture = useSwapdockOnEngine(engine, MODELS);
  const client = () => new OpenAI({ baseURL: `${fixture.sd!.url}/v1`, apiKey: 'sk-unused', maxRetries: 0 });

  it('streams a chat completion from a real container', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const stream = await client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, fake_chunks: 3 } as OpenAI.ChatCompletionCreateParamsStreaming);
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
    assert.equal(pieces.join(''), 'Hello from fake-model (model=org/chat-7b) #1 #2');
    const listed = (await client().models.retrieve('chat')) as OpenAI.Model & { context_length?: number; state?: string };
    assert.equal(listed.context_length, 4096);
    assert.equal(listed.state, 'ready');
  });

  it('uploads a 2 MiB file for transcription, all of it reaching the container', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const audio = Buffer.alloc(2 * 1024 * 1024 + 3);
    for (let i = 0; i < audio.length; i++) audio[i] = (i * 13) & 255;
    const result = (await client().audio.transcriptions.create({ file: await toFile(audio, 'speech.wav'), model: 'whisper' })) as OpenAI.Audio.Transcription & { files: Array<{ sha256: string }> };
    assert.equal(result.text, `received ${audio.length} bytes`);
    assert.equal(result.files[0]!.sha256, createHash('sha256').update(audio).digest('hex'));
  });

  it('carries a WebSocket through /upstream to the container', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const ws = new WebSocket(`${fixture.sd.url.replace('http', 'ws')}/upstream/chat/ws`);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('message', (e) => {
        messages.push(String(e.data));
        if (messages.length === 1) ws.send('over docker');
        else resolve();
      });
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    ws.close();
    assert.deepEqual(messages, ['hello /ws', 'echo: over docker']);
  });
});
