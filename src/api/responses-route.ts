// POST /v1/responses, the OpenAI Responses API (Codex CLI and other Responses-only clients). What
// happens depends on the model's `responses`:
// - `passthrough` (the default): forwarded like every model-routed JSON route, the answer written
//   chunk by chunk as it comes (NodeResponseSink) — the same bytes as inference-route.ts sends.
// - `translate` (the backend speaks only chat completions): the request is translated to
//   /v1/chat/completions, and its answer (JSON or SSE stream) back as it arrives (responses-sink.ts).
// Both go through InferenceProxy.forward(), so queueing, loading heartbeats, leases, aliases,
// upstreamModel and params apply as for any inference request. Errors are OpenAI-shaped.
import type { Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import { parseJsonBody, type InferenceProxy, type JsonBody } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import { logDroppedOnce } from '../proxy/responses/dropped-log.js';
import { checkResponsesRequest, toChatCompletion } from '../proxy/responses/translate-request.js';
import type { AppEnv } from './app-env.js';
import { NodeResponseSink } from './node-response.js';
import { attachSink } from './proxied.js';
import { readNodeBody } from './read-body.js';
import { ResponsesSink } from './responses-sink.js';
import { stringifyTranslated, translationHeaders } from './translated-request.js';

export interface ResponsesRouteDeps {
  proxy: InferenceProxy;
  resolver: ModelResolver;
  log: Logger;
  /** Interval of heartbeats to a streaming request waiting for its model (queue.heartbeat). */
  heartbeatMs: () => number;
  /** limits.maxBody of the config in force. */
  maxBodyBytes: () => number;
}

export function responsesHandler(deps: ResponsesRouteDeps): Handler<AppEnv> {
  return async function forwardResponses(c) {
    const req = c.env.incoming;
    const tracked = c.var.tracked;
    const passthroughSink = attachSink(tracked, new NodeResponseSink(c.env.outgoing!, tracked.requestId, tracked.meter), deps.log);
    const raw = await readNodeBody(req, deps.maxBodyBytes());
    const body = parseJsonBody(raw); // forward() would parse it anyway: parsed once, the same errors
    const { model } = deps.resolver.resolveForRequest(body.model);
    const signal = tracked.abort;
    if (model.responses !== 'translate') {
      const onStreamWait = (m: ModelConfig) => passthroughSink.beginWaiting(m, deps.heartbeatMs());
      await deps.proxy.forward({ method: 'POST', path: req.url ?? '/v1/responses', headers: req.headers, body: raw, parsed: body, signal, onStreamWait }, passthroughSink);
      return RESPONSE_ALREADY_SENT;
    }
    deps.proxy.checkAccess(req.headers, model); // 403 before anything is translated or started
    tracked.model = model.id;
    const request = checkResponsesRequest(body);
    const { chat, tools } = toChatCompletion(request, model.id, (what) => logDroppedOnce(deps.log, what)); // names model.id
    const sink = attachSink(tracked, new ResponsesSink(c.env.outgoing!, tracked.requestId, { model: body.model, request, tools }, tracked.meter), deps.log);
    const onStreamWait = (m: ModelConfig) => sink.beginWaiting(m, deps.heartbeatMs());
    const translated = Buffer.from(stringifyTranslated(chat));
    await deps.proxy.forward({ method: 'POST', path: '/v1/chat/completions', headers: translationHeaders(req), body: translated, parsed: chat as JsonBody, signal, onStreamWait }, sink);
    return RESPONSE_ALREADY_SENT;
  };
}
