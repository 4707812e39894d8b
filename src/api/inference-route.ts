// The model-routed JSON routes (chat completions, completions, embeddings, rerank, speech, image
// generation, llama.cpp's native ones; responses-route.ts forwards /v1/responses the same way
// unless its model translates it): the body names the model; the answer is
// written into the Node response chunk by chunk as undici parses it (NodeResponseSink), no
// stream in between — the forwarding hot path.
import type { Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import type { InferenceProxy } from '../proxy/inference-proxy.js';
import type { AppEnv } from './app-env.js';
import { NodeResponseSink } from './node-response.js';
import { attachSink } from './proxied.js';
import { readNodeBody } from './read-body.js';

export interface InferenceRouteDeps {
  proxy: InferenceProxy;
  log: Logger;
  /** Interval of SSE comments to a streaming request waiting for its model (queue.heartbeat). */
  heartbeatMs: () => number;
  /** limits.maxBody of the config in force. */
  maxBodyBytes: () => number;
}

export function inferenceHandler(deps: InferenceRouteDeps): Handler<AppEnv> {
  return async function forwardInference(c) {
    const req = c.env.incoming;
    const tracked = c.var.tracked;
    const sink = attachSink(tracked, new NodeResponseSink(c.env.outgoing!, tracked.requestId, tracked.meter), deps.log);
    const body = await readNodeBody(req, deps.maxBodyBytes());
    const onStreamWait = (model: ModelConfig) => sink.beginWaiting(model, deps.heartbeatMs());
    await deps.proxy.forward({ method: 'POST', path: req.url ?? '/', headers: req.headers, body, signal: tracked.abort, onStreamWait }, sink);
    return RESPONSE_ALREADY_SENT;
  };
}
