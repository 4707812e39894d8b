// A streaming request that has to wait for its model gets SSE headers and a comment at once, then
// heartbeat comments; a failed load ends the stream with an OpenAI-shaped error event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer, chat } from '../support/app-harness.js';

let server: Awaited<ReturnType<typeof buildServer>>;
before(async () => {
  server = await buildServer(`
instance: app-loading
queue: { heartbeat: 200ms }
defaults: { ttl: 0, stopTimeout: 1s }
models:
  slow: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "1000" } }
  slow2: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "600" } }
  slow3: { image: fake-model:latest, env: { FAKE_READY_DELAY_MS: "300" } }
  broken: { image: fake-model:latest, env: { FAKE_EXIT_ON_START: "2" } }
`);
});
after(() => server.shutdown());

async function readAll(res: Response, onChunk?: (text: string, atMs: number) => void): Promise<string> {
  const reader = res.body!.getReader();
  const started = Date.now();
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const chunk = new TextDecoder().decode(r.value);
    onChunk?.(chunk, Date.now() - started);
    text += chunk;
  }
  return text;
}

describe('waiting for a model to load', () => {
  it('sends SSE headers and a comment at once, heartbeats while loading, then the stream', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('slow', { stream: true, fake_chunks: 3 }));
    // The head is out while the model is still loading (no wall-clock bound: the state says it).
    const statusAtHead = server.scheduler.snapshotOf('slow')?.status;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    assert.equal(statusAtHead, 'starting', 'headers came before the model was ready');
    const text = await readAll(res);
    const events = text.split('\n\n').filter(Boolean);
    assert.match(events[0]!, /^: swapdock: waiting for model 'slow'/);
    const heartbeats = events.filter((e) => e.startsWith(': swapdock: still waiting'));
    assert.ok(heartbeats.length >= 2, `heartbeats every 200 ms during a ~1 s load (${heartbeats.length})`);
    const data = events.filter((e) => e.startsWith('data: '));
    assert.equal(data.length, 4, 'three chunks and [DONE]');
    assert.equal(data.at(-1), 'data: [DONE]');
  });

  it('ends the stream with an error event when the load fails', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('broken', { stream: true }));
    assert.equal(res.status, 200);
    const text = await readAll(res);
    const last = text.split('\n\n').filter(Boolean).at(-1)!;
    assert.match(last, /^data: /);
    const { error } = JSON.parse(last.slice('data: '.length));
    assert.match(error.message, /could not be started.*exit/i);
    assert.equal(error.type, 'service_unavailable');
  });

  it('wraps a backend error that follows the early head as an error event', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('slow2', { stream: true, fake_status: 400 }));
    const text = await readAll(res);
    assert.match(text, /^: swapdock: waiting/);
    const last = text.split('\n\n').filter(Boolean).at(-1)!;
    assert.ok(JSON.parse(last.slice('data: '.length)).error, 'an error event');
  });

  it('lets non-streaming requests simply wait', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('slow3'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/json/);
    assert.match(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, /model=slow3/);
  });

  it('does not add comments when the model is already ready', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('slow', { stream: true, fake_chunks: 2 }));
    assert.doesNotMatch(await readAll(res), /swapdock:/);
  });
});
