// `/upstream/{model}/{path}`: passes any request through to a configured model's container —
// its web UI, native endpoints, anything, WebSocket upgrades too — and nothing else. Static
// assets never start a model.
import type { Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import { BadRequestError, ControlEndpointError, ModelNotFoundError, SwapdockError } from '../errors.js';
import type { InferenceProxy, ModelAccessCheck } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import { isControlPath } from '../scheduler/backends/sleep-control.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { sleepControlOf } from '../scheduler/model-backend.js';
import type { AppEnv } from './app-env.js';
import { NodeResponseSink } from './node-response.js';
import { attachSink } from './proxied.js';
import { proxyUpgrade } from './websocket-upgrade.js';
import { requestMethod } from './request-method.js';

export const UPSTREAM_PREFIX = '/upstream/';
const STATIC_ASSET = /\.(js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|woff2?|ttf)$/i;

export class ModelNotLoadedError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'model_not_loaded';
  constructor(model: string, path: string) {
    super(`Model '${model}' is not loaded, and a static asset (${path}) never starts a model. Open the page itself first, or POST /api/models/${model}/load.`);
    this.retryAfterSeconds = 1;
  }
}

export interface UpstreamRouteDeps {
  proxy: InferenceProxy;
  resolver: ModelResolver;
  scheduler: Scheduler;
  log: Logger;
  /** The API-key check per model, for upgrades (plain requests get it from the proxy). */
  access?: ModelAccessCheck;
}

/**
 * Splits `/upstream/{name}/{rest}`; names may contain '/' (or '%2F'), so the longest configured
 * name wins. Only the name is decoded: the rest goes upstream exactly as the client wrote it.
 */
export function splitUpstreamUrl(url: string, names: readonly string[]): { name: string; path: string } | undefined {
  const rest = url.slice(UPSTREAM_PREFIX.length);
  const query = rest.indexOf('?');
  const segments = (query === -1 ? rest : rest.slice(0, query)).split('/');
  const known = new Set(names);
  for (let count = segments.length; count > 0; count--) {
    const name = tryDecode(segments.slice(0, count).join('/'));
    if (name === undefined || !known.has(name)) continue;
    const path = `/${segments.slice(count).join('/')}${query === -1 ? '' : rest.slice(query)}`;
    return { name, path };
  }
  return undefined;
}

function tryDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Decodes a part of an /upstream path; a malformed percent-escape is the client's error (400). */
export function decodePathPart(text: string): string {
  const decoded = tryDecode(text);
  if (decoded !== undefined) return decoded;
  throw new BadRequestError(`The path has a malformed percent-escape in '${text.slice(0, 100)}'. Escape '%' as %25.`, 'malformed_path');
}

/**
 * A model that can sleep has control endpoints (vLLM's dev-mode /sleep, /wake_up, /collective_rpc…,
 * tabbyAPI's model load/unload): only swapdock may call them, or a client could put a model to
 * sleep under other clients' requests, or run code in its workers. Checked on the path as sent
 * and fully decoded, so no escape slips through.
 */
function refuseControlPath(model: ModelConfig, path: string): void {
  const control = sleepControlOf(model);
  if (!control) return;
  const pathOnly = path.split('?')[0]!;
  const decoded = tryDecode(pathOnly) ?? pathOnly;
  if (isControlPath(pathOnly, control.controlPaths) || isControlPath(decoded, control.controlPaths)) throw new ControlEndpointError(model.id, decoded);
}

export function upstreamHandler(deps: UpstreamRouteDeps): Handler<AppEnv> {
  return async function forwardUpstream(c) {
    const req = c.env.incoming;
    const tracked = c.var.tracked;
    const url = req.url ?? '/';
    const target = splitUpstreamUrl(url, deps.resolver.names());
    if (!target) throw new ModelNotFoundError(decodePathPart(url.slice(UPSTREAM_PREFIX.length).split(/[/?]/)[0] ?? ''), deps.resolver.names());
    const model = deps.resolver.resolve(target.name);
    tracked.model = model.id;
    refuseControlPath(model, target.path);
    if (c.env.upgrade) {
      await proxyUpgrade(req, c.env.upgrade, model, target.path, tracked, { scheduler: deps.scheduler, access: deps.access });
      return RESPONSE_ALREADY_SENT;
    }
    if (STATIC_ASSET.test(target.path.split('?')[0]!) && deps.scheduler.snapshotOf(model.id)?.status !== 'ready') {
      throw new ModelNotLoadedError(model.id, target.path);
    }
    const sink = attachSink(tracked, new NodeResponseSink(c.env.outgoing!, tracked.requestId, tracked.meter), deps.log);
    const method = requestMethod(req);
    const hasBody = method !== 'GET' && method !== 'HEAD';
    await deps.proxy.passthrough(model, { method, path: target.path, headers: req.headers, body: hasBody ? req : null, signal: tracked.abort }, sink);
    return RESPONSE_ALREADY_SENT;
  };
}
