// The Node request listener. Inference POSTs take a direct path — raw Node request in, upstream
// response written out chunk by chunk as undici parses it (NodeResponseSink) — because building a
// WHATWG Request/Response per call costs several times the proxy's whole latency budget
// (measured with `npm run bench`). Everything else goes through Hono.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { InferenceProxy } from '../proxy/inference-proxy.js';
import type { AppEnv } from './create-app.js';
import { INFERENCE_PATHS } from './create-app.js';
import { renderError } from './error-response.js';
import { ANTHROPIC_PATHS, handleAnthropic } from './anthropic-route.js';
import { readNodeBody } from './read-body.js';
import { UPSTREAM_PREFIX, forwardUpstream, type UpstreamRouteDeps } from './upstream-route.js';
import { beginProxiedRequest } from './request-log.js';
import { MULTIPART_PATHS, forwardMultipart } from './multipart-route.js';
import { PROPS_PATH, forwardProps } from './props-route.js';
import { admitRequest } from './auth-gate.js';
import { applyCors } from './cors.js';
import { unusableRequestTarget } from './client-error.js';
import type { ModelConfig } from '../config/schema.js';

export interface NodeListenerDeps extends UpstreamRouteDeps {
  proxy: InferenceProxy;
  log: Logger;
  /** Interval of SSE comments to a streaming request waiting for its model (queue.heartbeat). */
  heartbeatMs: () => number;
  /** limits.maxBody of the config in force. */
  maxBodyBytes: () => number;
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createNodeListener(app: Hono<AppEnv>, deps: NodeListenerDeps): NodeListener {
  const viaHono = getRequestListener(app.fetch, { errorHandler: unusableRequestTarget });
  const fastPaths = new Set<string>(INFERENCE_PATHS);
  const multipartPaths = new Set<string>(MULTIPART_PATHS);
  const anthropicPaths = new Set<string>(ANTHROPIC_PATHS);
  return function handleRequest(req, res) {
    // CORS first (a preflight carries no key), then the API key, for every route below.
    const config = deps.scheduler.currentConfig;
    const origin = req.headers.origin;
    if (origin !== undefined && applyCors(req, res, config, origin)) return;
    if (req.method === 'POST' && fastPaths.has(pathOf(req.url))) {
      if (admitRequest(req, res, config, true)) void forwardInference(req, res, deps);
      return;
    }
    if (!admitRequest(req, res, config)) return;
    if (req.method === 'POST' && anthropicPaths.has(pathOf(req.url))) {
      void handleAnthropic(req, res, pathOf(req.url), deps);
      return;
    }
    if (req.method === 'POST' && multipartPaths.has(pathOf(req.url))) {
      void forwardMultipart(req, res, deps);
      return;
    }
    if (req.method === 'GET' && pathOf(req.url) === PROPS_PATH) {
      void forwardProps(req, res, deps);
      return;
    }
    if (req.url?.startsWith(UPSTREAM_PREFIX)) {
      void forwardUpstream(req, res, deps);
      return;
    }
    void viaHono(req, res);
  };
}

async function forwardInference(req: IncomingMessage, res: ServerResponse, deps: NodeListenerDeps) {
  const { requestId, abort, sink } = beginProxiedRequest(req, res, deps.log, deps.scheduler.events);
  try {
    const body = await readNodeBody(req, deps.maxBodyBytes());
    const onStreamWait = (model: ModelConfig) => sink.beginWaiting(model, deps.heartbeatMs());
    await deps.proxy.forward({ method: 'POST', path: req.url ?? '/', headers: req.headers, body, signal: abort.signal, onStreamWait }, sink);
  } catch (err) {
    if (abort.signal.aborted) return; // nobody left to tell
    const rendered = renderError(err, 'openai');
    if (sink.answeredEarly) {
      deps.log.warn({ requestId, err: (err as Error).message }, 'Request failed after its stream began; sent as an error event');
      return sink.failEarly(rendered.body);
    }
    if (res.headersSent) return;
    if (rendered.status >= 500) deps.log.warn({ requestId, err: (err as Error).message }, 'Request failed');
    res.writeHead(rendered.status, { ...rendered.headers, 'x-request-id': requestId }).end(rendered.body);
  }
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
