// Every sink lets go of undici's controller once the upstream exchange is over (answer complete or
// broken): a client that leaves during the answer cancels the upstream request; one that leaves
// after it reaches nothing. (A sink that kept the controller kept each request's objects alive into
// V8's old generation: long young-generation pauses under load.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicSink } from '../../src/api/anthropic-sink.js';
import { NodeResponseSink } from '../../src/api/node-response.js';
import type { ResponseSinkBase } from '../../src/api/response-sink-base.js';
import { ResponsesSink } from '../../src/api/responses-sink.js';
import type { ModelConfig } from '../../src/config/schema.js';
import type { UpstreamControl } from '../../src/proxy/inference-proxy.js';
import { checkResponsesRequest } from '../../src/proxy/responses/translate-request.js';
import { RecordingResponse } from '../support/recording-response.js';

const model = { id: 'm' } as ModelConfig;
const json = { 'content-type': 'application/json' };
const completion = JSON.stringify({ id: 'c', choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } });

function recordingControl() {
  const aborted: Error[] = [];
  const control: UpstreamControl = { pause() {}, resume() {}, abort: (reason) => void aborted.push(reason) };
  return { control, aborted };
}

const res = () => new RecordingResponse().asServerResponse;
const sinks: Record<string, () => ResponseSinkBase> = {
  NodeResponseSink: () => new NodeResponseSink(res(), 'req-1'),
  AnthropicSink: () => new AnthropicSink(res(), 'req-1', { mode: 'translate', requestedModel: 'm' }),
  ResponsesSink: () => new ResponsesSink(res(), 'req-1', { model: 'm', request: checkResponsesRequest({ model: 'm', input: 'hi' }), tools: new Map() }),
};

describe('sinks let go of the upstream controller when the exchange is over', () => {
  for (const [name, make] of Object.entries(sinks)) {
    it(`${name}: a client leaving mid-answer aborts the upstream; after the end, nothing`, () => {
      const during = make();
      const a = recordingControl();
      during.onStart(a.control);
      during.onHead(model, 200, { ...json }, a.control);
      during.clientGone(new Error('left mid-answer'));
      assert.equal(a.aborted.length, 1, 'the upstream request is cancelled while the answer runs');

      const ended = make();
      const b = recordingControl();
      ended.onStart(b.control);
      ended.onHead(model, 200, { ...json }, b.control);
      ended.onData(Buffer.from(completion));
      ended.onEnd();
      ended.clientGone(new Error('left after the end'));
      assert.deepEqual(b.aborted, [], 'no controller is kept after the answer ended');

      const broken = make();
      const c = recordingControl();
      broken.onStart(c.control);
      broken.onHead(model, 200, { ...json }, c.control);
      broken.onBroken(new Error('backend went away'));
      broken.clientGone(new Error('left after the break'));
      assert.deepEqual(c.aborted, [], 'no controller is kept after the answer broke');
    });
  }
});
