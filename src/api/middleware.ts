// The middleware chain every route passes through, in this order: request tracking (id, one log
// line, a `request` event for proxied routes, cancelling work when the client leaves), CORS, then
// the API-key gate with the access the route declares. routes.ts puts it in front of each handler.
import type { MiddlewareHandler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { SwapdockConfig } from '../config/schema.js';
import { ResponseMeter } from '../proxy/response-meter.js';
import type { SchedulerEvents } from '../scheduler/scheduler-events.js';
import { LazyAbort } from '../util/lazy-abort.js';
import type { AppEnv, RouteSpec, TrackedRequest } from './app-env.js';
import { authorize, keyRingFor } from './auth.js';
import { rememberKey } from './auth-gate.js';
import { applyCors } from './cors.js';
import { UpgradeNotSupportedError } from './http-errors.js';
import { requestMethod } from './request-method.js';
import { logRequest, newRequestId, requestEvent, type RequestLogFields } from './request-log.js';

export interface MiddlewareDeps {
  log: Logger;
  events?: SchedulerEvents;
  /** The config in force (keys and CORS origins change on reload). */
  config: () => SwapdockConfig;
}

export function middlewareFor(spec: RouteSpec, deps: MiddlewareDeps): MiddlewareHandler<AppEnv>[] {
  return [trackRequest(spec, deps), corsPolicy(deps), keyGate(spec, deps)];
}

function trackRequest(spec: RouteSpec, deps: MiddlewareDeps): MiddlewareHandler<AppEnv> {
  const withEvents = spec.proxied === true && deps.events !== undefined;
  return function trackEachRequest(c, next) {
    const { incoming, outgoing, upgrade } = c.env;
    const tracked: TrackedRequest = {
      requestId: newRequestId(incoming.headers['x-request-id']),
      started: performance.now(),
      abort: new LazyAbort(),
      meter: withEvents ? new ResponseMeter() : undefined,
    };
    c.set('route', spec);
    c.set('tracked', tracked);
    (outgoing ?? upgrade!.socket).once('close', () => finish(spec, deps, c.env, tracked, withEvents));
    if (upgrade && !spec.upgrade) throw new UpgradeNotSupportedError(incoming.url ?? '/');
    // Proxied routes write every header in one writeHead (Node's fast path); the others get it here.
    if (outgoing && !spec.proxied) outgoing.setHeader('x-request-id', tracked.requestId);
    return next();
  };
}

function finish(spec: RouteSpec, deps: MiddlewareDeps, env: AppEnv['Bindings'], tracked: TrackedRequest, withEvents: boolean): void {
  const { incoming, outgoing } = env;
  const completed = outgoing ? outgoing.writableFinished : tracked.status !== undefined;
  if (!completed) {
    const reason = new Error('the client closed the connection');
    tracked.abort.abort(reason); // a wait for the model or for a connection
    tracked.clientGone?.(reason); // the upstream request, once it is out
  }
  if (spec.quiet) return;
  const url = incoming.url ?? '/';
  const q = url.indexOf('?');
  const fields: RequestLogFields = {
    requestId: tracked.requestId,
    method: requestMethod(incoming),
    path: q === -1 ? url : url.slice(0, q),
    status: outgoing ? (completed ? outgoing.statusCode : 499) : (tracked.status ?? 499),
    durationMs: performance.now() - tracked.started,
    model: tracked.modelOf?.() ?? tracked.model,
  };
  logRequest(deps.log, fields);
  if (withEvents) deps.events!.emit('request', requestEvent(fields, tracked.started, tracked.meter!));
}

function corsPolicy(deps: MiddlewareDeps): MiddlewareHandler<AppEnv> {
  return function applyCorsPolicy(c, next) {
    const origin = c.env.incoming.headers.origin;
    // A request without an Origin header costs one header read; a preflight is answered here.
    if (origin !== undefined && c.env.outgoing && applyCors(c.env.incoming, c.env.outgoing, deps.config(), origin)) return Promise.resolve(RESPONSE_ALREADY_SENT);
    return next();
  };
}

function keyGate(spec: RouteSpec, deps: MiddlewareDeps): MiddlewareHandler<AppEnv> {
  return function checkApiKey(c, next) {
    const config = deps.config();
    const ring = keyRingFor(config);
    if (ring.open) return next(); // no keys configured: one WeakMap lookup
    const access = typeof spec.access === 'function' ? spec.access(config) : spec.access;
    const path = (c.env.incoming.url ?? '/').split('?')[0]!;
    try {
      rememberKey(c.env.incoming.headers, authorize(ring, c.env.incoming.headers, access, path));
    } catch (err) {
      // A browser opening the web UI without its admin key is sent to the login page.
      if (spec.browserPage && (c.env.incoming.headers.accept ?? '').includes('text/html')) {
        c.header('cache-control', 'no-store');
        return Promise.resolve(c.redirect('/ui/login', 303));
      }
      throw err;
    }
    return next();
  };
}
