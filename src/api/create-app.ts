// Builds the HTTP app from its dependencies (no singletons): every route of the table (routes.ts)
// behind one middleware chain (middleware.ts), and one error handler. Proxied routes write their
// answer into the Node response themselves and return RESPONSE_ALREADY_SENT; the Node server
// (node-listener.ts) hands every request to this app, upgrades included.
import { Hono, type MiddlewareHandler } from 'hono';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { SwapdockConfig } from '../config/schema.js';
import type { SwapdockMetrics } from '../metrics/swapdock-metrics.js';
import type { InferenceProxy, ModelAccessCheck } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { LogTail } from '../util/log-tail.js';
import type { ReloadOutcome } from './admin-routes.js';
import type { AppEnv } from './app-env.js';
import { renderError, renderRawResponse, sendError } from './error-response.js';
import { middlewareFor } from './middleware.js';
import { routeTable } from './routes.js';

export type { AppEnv } from './app-env.js';

export interface AppDeps {
  /** The config at start-up; after a reload the scheduler holds the current one. */
  config: SwapdockConfig;
  scheduler: Scheduler;
  proxy: InferenceProxy;
  resolver: ModelResolver;
  log: Logger;
  version: string;
  /** The API-key check per model (for WebSocket upgrades; the proxy has its own). */
  access?: ModelAccessCheck;
  /** Re-reads the config file (POST /api/reload); absent when there is no file. */
  reload?: () => Promise<ReloadOutcome>;
  /** Prometheus metrics (GET /metrics). */
  metrics?: SwapdockMetrics;
  /** swapdock's own recent log lines (GET /api/logs). */
  logTail?: LogTail;
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  // The table compiled to one regular expression: about 25 ns a match, against 0.4 µs and a
  // sorted array per request for the trie router Hono falls back to when a table does not fit.
  // A route it cannot hold fails here, at start-up, rather than slowing every request.
  const app = new Hono<AppEnv>({ router: new RegExpRouter() });
  // The request log line carries only fixed, safe fields (id, method, path, status, duration,
  // model): it skips redaction, which costs about 15 µs a line with the logger's wildcard paths.
  const requestLog = deps.log.child({}, { redact: { paths: [] } });
  const middlewareDeps = { log: requestLog, events: deps.scheduler.events, config: () => deps.scheduler.currentConfig };
  // Hono's typed overloads want a fixed number of handlers; the chain is the same length for every route.
  const register = app.on.bind(app) as (method: string, path: string, ...handlers: MiddlewareHandler<AppEnv>[]) => void;
  for (const spec of routeTable(deps)) register(spec.method, spec.path, ...middlewareFor(spec, middlewareDeps), spec.handler as MiddlewareHandler<AppEnv>);

  app.onError(function renderAppError(err, c) {
    const tracked = c.var.tracked;
    const error = deps.proxy.hideUnusable(err, c.env.incoming.headers); // a key sees only its own models
    const dialect = c.var.route?.dialect ?? 'openai';
    const upgrade = c.env.upgrade;
    if (upgrade) {
      if (tracked) tracked.status = renderError(error).status;
      upgrade.socket.end(renderRawResponse(error, dialect));
    } else if (tracked?.sink) {
      tracked.sink.fail(error);
    } else {
      sendError(c.env.outgoing!, error, { dialect, requestId: tracked?.requestId, log: deps.log });
    }
    return RESPONSE_ALREADY_SENT;
  });

  return app;
}
