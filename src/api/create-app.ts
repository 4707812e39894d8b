// Builds the HTTP app from its dependencies (no singletons), so tests can run it with a fake
// runtime through `app.request()`. The Node server adds a fast path for inference routes
// (node-listener.ts) that shares the same proxy core and error renderer.
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError, PayloadTooLargeError, RouteNotFoundError } from '../errors.js';
import type { InferenceProxy } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { dialectForPath, renderError } from './error-response.js';
import { safeDecode } from './safe-decode.js';
import { listModels } from './model-list.js';
import { adminRoutes, type ReloadOutcome } from './admin-routes.js';
import { observeRoutes } from './observe-routes.js';
import type { LogTail } from '../util/log-tail.js';
import { uiRoutes } from './ui-route.js';
import { uiLoginRoutes } from './ui-login.js';
import { visibleTo } from './auth.js';
import { requestKey } from './auth-gate.js';
import { requestLogger } from './request-log.js';
import { metricsHandler } from './metrics-route.js';
import type { SwapdockMetrics } from '../metrics/swapdock-metrics.js';
import { AnthropicNeedsServerError } from '../proxy/anthropic/anthropic-errors.js';

export interface AppDeps {
  /** The config at start-up; after a reload the scheduler holds the current one. */
  config: SwapdockConfig;
  scheduler: Scheduler;
  proxy: InferenceProxy;
  resolver: ModelResolver;
  log: Logger;
  version: string;
  /** Re-reads the config file (POST /api/reload); absent when there is no file. */
  reload?: () => Promise<ReloadOutcome>;
  /** Prometheus metrics (GET /metrics); absent in tests that do not need them. */
  metrics?: SwapdockMetrics;
  /** swapdock's own recent log lines (GET /api/logs). */
  logTail?: LogTail;
}

export type AppEnv = { Bindings: Partial<HttpBindings>; Variables: { log: Logger; requestId: string; model: string } };

/** POST routes whose body names the model and which are forwarded to that model's container. */
export const INFERENCE_PATHS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/rerank',
  '/v1/audio/speech',
  '/v1/images/generations',
  // llama.cpp server's native API, routed by the `model` field like the rest.
  '/completion',
  '/infill',
  '/tokenize',
  '/detokenize',
  '/props', // POST with a JSON body naming the model; GET /props?model= is in props-route.ts
] as const;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestLogger(deps.log));

  app.get('/health', (c) => c.json({ status: 'ok', version: deps.version }));

  // The models the request's API key may use (all of them without keys).
  const modelsFor = (c: { req: { header(name: string): string | undefined } }) => {
    const config = deps.scheduler.currentConfig;
    const list = listModels(config, deps.scheduler);
    const key = requestKey(config, { authorization: c.req.header('authorization'), 'x-api-key': c.req.header('x-api-key') });
    return { ...list, data: visibleTo(list.data, config, key) };
  };
  app.get('/v1/models', (c) => c.json(modelsFor(c)));
  app.get('/v1/models/*', function describeModel(c) {
    const name = safeDecode(c.req.path.slice('/v1/models/'.length));
    const visible = modelsFor(c).data;
    const entry = visible.find((m) => m.id === name);
    if (!entry) throw new ModelNotFoundError(name, visible.map((m) => m.id));
    return c.json(entry);
  });
  app.route('/api', adminRoutes(deps));
  app.route('/api', observeRoutes(deps));
  app.route('/ui/login', uiLoginRoutes(deps));
  app.route('/ui', uiRoutes());
  if (deps.metrics) app.get('/metrics', metricsHandler(deps.metrics));

  for (const path of INFERENCE_PATHS) {
    app.post(path, async function forwardInference(c) {
      const limit = deps.scheduler.currentConfig.limits.maxBodyBytes;
      if (Number(c.req.header('content-length')) > limit) throw new PayloadTooLargeError(limit);
      const body = Buffer.from(await c.req.arrayBuffer());
      if (body.length > limit) throw new PayloadTooLargeError(limit);
      const url = new URL(c.req.url);
      const upstream = await deps.proxy.open({
        method: 'POST',
        path: url.pathname + url.search,
        headers: Object.fromEntries(c.req.raw.headers),
        body,
        signal: c.req.raw.signal,
      });
      c.set('model', upstream.model.id);
      const headers = new Headers();
      for (const [key, value] of Object.entries(upstream.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
      }
      return new Response(ReadableStream.from(upstream.body) as ReadableStream, { status: upstream.statusCode, headers });
    });
  }

  // Served by the Node listener (anthropic-route.ts), which translates as the answer streams.
  for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
    app.post(path, () => {
      throw new AnthropicNeedsServerError(path);
    });
  }

  app.notFound((c) => {
    throw new RouteNotFoundError(c.req.method, c.req.path);
  });

  app.onError(function renderAppError(err, c) {
    const rendered = renderError(err, dialectForPath(c.req.path));
    if (rendered.status >= 500) c.var.log?.error({ err: err.message }, 'Request failed');
    return new Response(rendered.body, { status: rendered.status, headers: rendered.headers });
  });

  return app;
}
