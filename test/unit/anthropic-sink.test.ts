// AnthropicSink against a recording stand-in for ServerResponse: what a /v1/messages client gets
// for each kind of upstream answer.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { AnthropicSink } from '../../src/api/anthropic-sink.js';
import type { ModelConfig } from '../../src/config/schema.js';
import type { UpstreamControl } from '../../src/proxy/inference-proxy.js';
import { RecordingResponse } from '../support/recording-response.js';

const model = { id: 'm' } as ModelConfig;
const control: UpstreamControl = { pause() {}, resume() {}, abort() {} };
const json = { 'content-type': 'application/json' };
const sseHead = { 'content-type': 'text/event-stream' };

function run(mode: 'passthrough' | 'translate', statusCode: number, headers: Record<string, string>, chunks: string[], early = false) {
  const res = new RecordingResponse();
  const sink = new AnthropicSink(res as unknown as ServerResponse, 'req-1', { mode, requestedModel: 'client-name' });
  if (early) sink.beginWaiting(model, 60_000);
  sink.onStart(control);
  sink.onHead(model, statusCode, { ...headers }, control);
  for (const c of chunks) sink.onData(Buffer.from(c));
  sink.onEnd();
  res.emit('close');
  return res;
}

const events = (body: string) => body.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => b.split('\n')[0]!.slice('event: '.length));

describe('AnthropicSink', () => {
  it('translates a JSON completion into a Message', () => {
    const res = run('translate', 200, json, ['{"id":"c","choices":[{"message":{"content":"hi"},', '"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}']);
    assert.equal(res.status, 200);
    const msg = JSON.parse(res.body);
    assert.equal(msg.model, 'client-name');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'hi' }]);
  });

  it('translates an SSE stream as it arrives, a UTF-8 character split across chunks included', () => {
    const bytes = Buffer.from('data: {"choices":[{"delta":{"content":"é"}}]}\n\ndata: [DONE]\n\n');
    const cut = bytes.indexOf(Buffer.from('é')) + 1;
    const res = new RecordingResponse();
    const sink = new AnthropicSink(res as unknown as ServerResponse, 'r', { mode: 'translate', requestedModel: 'x' });
    sink.onHead(model, 200, sseHead, control);
    sink.onData(bytes.subarray(0, cut));
    sink.onData(bytes.subarray(cut));
    sink.onEnd();
    assert.match(res.headers['content-type'] as string, /text\/event-stream/);
    assert.match(res.body, /"text":"é"/);
    assert.equal(events(res.body).at(-1), 'message_stop');
  });

  it('turns an OpenAI error into an Anthropic one with the same status', () => {
    const res = run('translate', 422, json, ['{"error":{"message":"bad tool schema","type":"invalid_request_error"}}']);
    assert.equal(res.status, 422);
    const body = JSON.parse(res.body);
    assert.equal(body.type, 'error');
    assert.match(body.error.message, /answered 422: bad tool schema/);
  });

  it('a 200 answer that is not JSON is a 502 api_error naming the model', () => {
    const res = run('translate', 200, json, ['<html>oops</html>']);
    assert.equal(res.status, 502);
    const body = JSON.parse(res.body);
    assert.equal(body.error.type, 'api_error');
    assert.match(body.error.message, /model 'm'.*not JSON/);
  });

  it('passes an Anthropic error of a native backend on as it is', () => {
    const native = '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}';
    const res = run('passthrough', 529, json, [native]);
    assert.equal(res.status, 529);
    assert.equal(res.body, native);
  });

  it('after an early SSE head: an error becomes an error event, a JSON Message its stream events', () => {
    const failed = run('translate', 500, json, ['{"error":{"message":"boom"}}'], true);
    assert.deepEqual(events(failed.body), ['ping', 'error']);
    const message = '{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}';
    const passed = run('passthrough', 200, json, [message], true);
    assert.deepEqual(events(passed.body), ['ping', 'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  it('a stream broken by the backend ends with an error event', () => {
    const res = new RecordingResponse();
    const sink = new AnthropicSink(res as unknown as ServerResponse, 'r', { mode: 'translate', requestedModel: 'x' });
    sink.onHead(model, 200, sseHead, control);
    sink.onData(Buffer.from('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'));
    sink.onBroken(new Error('socket hang up'));
    assert.equal(events(res.body).at(-1), 'error');
    assert.match(res.body, /broke off the stream: socket hang up/);
  });

  it('reasoning in a JSON answer after an early SSE head streams as a thinking block with its signature_delta', () => {
    const res = new RecordingResponse();
    const sink = new AnthropicSink(res as unknown as ServerResponse, 'r', { mode: 'translate', requestedModel: 'x', thinking: true });
    sink.beginWaiting(model, 60_000);
    sink.onStart(control);
    sink.onHead(model, 200, { ...json }, control);
    sink.onData(Buffer.from('{"choices":[{"message":{"content":"hi","reasoning_content":"hm"},"finish_reason":"stop"}]}'));
    sink.onEnd();
    res.emit('close');
    assert.deepEqual(events(res.body), ['ping', 'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.match(res.body, /"content_block":\{"type":"thinking","thinking":"","signature":""\}/);
    assert.match(res.body, /"delta":\{"type":"thinking_delta","thinking":"hm"\}[\s\S]*"delta":\{"type":"signature_delta","signature":""\}/);
  });
});
