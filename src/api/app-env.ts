// The types every route shares: what a route declares (routes.ts), what the middleware hands a
// handler, and the bindings @hono/node-server passes in (the Node request and response, or the
// socket of an HTTP upgrade).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Handler } from 'hono';
import type { SwapdockConfig } from '../config/schema.js';
import type { ResponseMeter } from '../proxy/response-meter.js';
import type { LazyAbort } from '../util/lazy-abort.js';
import type { ErrorDialect } from './error-response.js';

/** Who may call a route: anyone, any valid API key, or an admin key (only when auth.keys is set). */
export type Access = 'public' | 'key' | 'admin';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'ALL';
  /** A Hono path pattern. */
  path: string;
  /** Fixed, or decided by the config in force (GET /metrics follows metrics.public). */
  access: Access | ((config: SwapdockConfig) => Access);
  /** The shape of this route's errors. */
  dialect: ErrorDialect;
  /** A proxied route: it writes its answer into the Node response itself, and each request emits a `request` event. */
  proxied?: boolean;
  /** Takes HTTP upgrades (WebSockets); every other route refuses them. */
  upgrade?: boolean;
  /** Not written to the request log (liveness probes would drown it). */
  quiet?: boolean;
  /** A page a browser opens: without its admin key the browser is sent to the login page, not given a 401. */
  browserPage?: boolean;
  handler: Handler<AppEnv>;
}

/** An HTTP upgrade: the raw socket and the bytes read past the head. */
export interface UpgradeBinding {
  socket: Duplex;
  head: Buffer;
}

export interface AppBindings {
  incoming: IncomingMessage;
  /** Absent for an HTTP upgrade, which answers on `upgrade.socket`. */
  outgoing?: ServerResponse;
  upgrade?: UpgradeBinding;
}

/** What the request-tracking middleware records of each request, for its log line and `request` event. */
export interface TrackedRequest {
  requestId: string;
  /** performance.now() at arrival. */
  started: number;
  /** Fires when the client goes away (proxied routes): cancels the wait for a model and the upstream request. */
  abort: LazyAbort;
  /** Time to first byte and tokens, read as the answer passes (proxied routes, with events on). */
  meter?: ResponseMeter;
  /** The model that answered (or is waited for), once known. */
  model?: string;
  /** Cancels the upstream request once it is out (set by the route's sink). */
  clientGone?: (reason: Error) => void;
  /** Reads the model from the sink, when the route has one. */
  modelOf?: () => string | undefined;
  /** The proxied route's sink, once it has one: errors after its early SSE head go through it. */
  sink?: { fail(err: unknown): void };
  /** An upgrade's outcome (101, or the error sent on the socket); plain requests use the response's status. */
  status?: number;
}

export type AppEnv = { Bindings: AppBindings; Variables: { route: RouteSpec; tracked: TrackedRequest } };
