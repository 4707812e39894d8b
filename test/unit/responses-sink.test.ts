// ResponsesSink against a recording stand-in for ServerResponse: what a /v1/responses client of a
// `responses: translate` model gets for each kind of upstream answer, including the ones the fake
// backend never gives (JSON to a stream request, a body that is not JSON, a stream cut off).
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { ResponsesSink } from '../../src/api/responses-sink.js';
import type { ModelConfig } from '../../src/config/schema.js';
import type { UpstreamControl } from '../../src/proxy/inference-proxy.js';
import { checkResponsesRequest } from '../../src/proxy/responses/translate-request.js';
import { RecordingResponse } from '../support/recording-response.js';

const model = { id: 'm' } as ModelConfig;
const control: UpstreamControl = { pause() {}, resume() {}, abort() {} };
const json = { 'content-type': 'application/json' };
const sseHead = { 'content-type': 'text/event-stream' };
const completion = JSON.stringify({ id: 'c', choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } });

function sink(stream: boolean) {
  const res = new RecordingResponse();
  const request = checkResponsesRequest({ model: 'client-name', input: 'hi', stream });
  return { res, sink: new ResponsesSink(res as unknown as ServerResponse, 'req-1', { model: 'client-name', request, tools: new Map() }) };
}

function run(stream: boolean, statusCode: number, headers: Record<string, string>, chunks: string[], early = false) {
  const { res, sink: s } = sink(stream);
  if (early) s.beginWaiting(model, 60_000);
  s.onStart(control);
  s.onHead(model, statusCode, { ...headers }, control);
  for (const c of chunks) s.onData(Buffer.from(c));
  s.onEnd();
  res.emit('close');
  return res;
}

const types = (body: string) => body.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => b.split('\n')[0]!.slice('event: '.length));
const lastData = (body: string) => JSON.parse(body.trim().split('\n').at(-1)!.slice('data: '.length));

describe('ResponsesSink', () => {
  it('translates a JSON completion into a response object', () => {
    const res = run(false, 200, json, [completion.slice(0, 20), completion.slice(20)]);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-request-id'], 'req-1');
    const body = JSON.parse(res.body);
    assert.equal(body.object, 'response');
    assert.equal(body.model, 'client-name');
    assert.equal(body.output[0].content[0].text, 'hi');
  });

  it('answers a stream request the backend answered with JSON as the events that build the response', () => {
    const res = run(true, 200, json, [completion]);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.deepEqual(types(res.body).at(0), 'response.created');
    assert.equal(lastData(res.body).type, 'response.completed');
    assert.equal(lastData(res.body).response.output[0].content[0].text, 'hi');
  });

  it('translates an SSE stream split anywhere', () => {
    const upstream = 'data: {"choices":[{"delta":{"content":"Hé"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
    const bytes = Buffer.from(upstream);
    const { res, sink: s } = sink(true);
    s.onStart(control);
    s.onHead(model, 200, { ...sseHead }, control);
    for (let i = 0; i < bytes.length; i += 3) s.onData(bytes.subarray(i, i + 3)); // splits the é too
    s.onEnd();
    assert.equal(lastData(res.body).response.output[0].content[0].text, 'Hé');
  });

  it('passes an upstream error on with its status as an OpenAI error before the head', () => {
    const res = run(false, 429, json, ['{"error":{"message":"slow down"}}']);
    assert.equal(res.status, 429);
    const body = JSON.parse(res.body);
    assert.equal(body.error.code, 'upstream_429');
    assert.match(body.error.message, /backend of model 'm' answered 429: slow down/);
  });

  it('after the early head, an upstream error or a body that is not JSON ends the stream with response.failed', () => {
    const failed = run(true, 500, json, ['{"error":{"message":"boom"}}'], true);
    assert.deepEqual(types(failed.body), ['response.created', 'response.in_progress', 'response.failed']);
    assert.match(lastData(failed.body).response.error.message, /answered 500: boom/);
    const garbled = run(true, 200, { 'content-type': 'text/plain' }, ['not json'], true);
    assert.equal(lastData(garbled.body).response.error.code, 'upstream_unreachable');
    assert.match(lastData(garbled.body).response.error.message, /its answer is not JSON/);
  });

  it('a stream the backend breaks off ends with response.failed', () => {
    const { res, sink: s } = sink(true);
    s.onStart(control);
    s.onHead(model, 200, { ...sseHead }, control);
    s.onData(Buffer.from('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'));
    s.onBroken(new Error('socket hang up'));
    assert.equal(res.writableEnded, true);
    assert.equal(lastData(res.body).type, 'response.failed');
    assert.equal(lastData(res.body).response.error.code, 'upstream_stream_broken');
    assert.match(lastData(res.body).response.error.message, /socket hang up/);
    assert.deepEqual([lastData(res.body).response.output[0].status, lastData(res.body).response.output[0].content[0].text], ['incomplete', 'Hi'], 'the output so far');
  });
});
