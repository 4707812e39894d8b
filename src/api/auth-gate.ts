// Applies the API-key policy (auth.ts) to raw Node requests: the gate at the front of the Node
// listener (every route, the fast path and Hono alike, and WebSocket upgrades), and the proxy's
// per-model access hook. Keys are read from the config in force on every request, so a hot
// reload takes effect at once. With no keys configured both cost one WeakMap lookup.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { ModelAccessCheck } from '../proxy/inference-proxy.js';
import { type ApiKey, KEY_COOKIE, UnauthorizedError, authorize, canonicalPath, keyRingFor, modelNotAllowed, presentedKey, routeAccess } from './auth.js';
import { dialectForPath, renderError, type RenderedError } from './error-response.js';

/** The key each admitted request presented, so the model check need not hash it again. */
const admitted = new WeakMap<IncomingHttpHeaders, ApiKey>();

/**
 * Checks the request's key for its route. Returns undefined when the request may go on, else the
 * response to send instead: a JSON error (401 with `www-authenticate: Bearer`, or 403), or, for a
 * browser opening the web UI without a valid admin key, a redirect to the login page.
 * `fastPath` marks an inference route (any valid key will do; the path needs no normalising).
 */
export function checkRequestKey(req: IncomingMessage, config: SwapdockConfig, fastPath = false): RenderedError | undefined {
  const ring = keyRingFor(config);
  if (ring.open) return undefined;
  const path = fastPath ? '' : canonicalPath(req.url ?? '/');
  try {
    const key = authorize(ring, req.headers, fastPath ? 'client' : routeAccess(path, config.metrics.public), path);
    if (key) admitted.set(req.headers, key);
    return undefined;
  } catch (err) {
    if (isBrowserOpeningUi(req, path)) return { status: 303, headers: { location: '/ui/login', 'cache-control': 'no-store' }, body: '' };
    const rendered = renderError(err, dialectForPath(fastPath ? (req.url ?? '/') : path));
    if (err instanceof UnauthorizedError) rendered.headers['www-authenticate'] = 'Bearer realm="swapdock"';
    return rendered;
  }
}

/** The error a request's key earns on its route (for WebSocket upgrades, which render their own), or undefined. */
export function requestKeyError(req: IncomingMessage, config: SwapdockConfig): Error | undefined {
  const ring = keyRingFor(config);
  if (ring.open) return undefined;
  const path = canonicalPath(req.url ?? '/');
  try {
    const key = authorize(ring, req.headers, routeAccess(path, config.metrics.public), path);
    if (key) admitted.set(req.headers, key);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** The gate of the Node listener: answers and returns false when the request may not go on. */
export function admitRequest(req: IncomingMessage, res: ServerResponse, config: SwapdockConfig, fastPath = false): boolean {
  const refusal = checkRequestKey(req, config, fastPath);
  if (!refusal) return true;
  res.writeHead(refusal.status, { ...refusal.headers, 'content-length': Buffer.byteLength(refusal.body) }).end(refusal.body);
  return false;
}

function isBrowserOpeningUi(req: IncomingMessage, path: string): boolean {
  return req.method === 'GET' && /^\/ui(\/|\/index\.html)?$/i.test(path) && (req.headers.accept ?? '').includes('text/html');
}

/** The proxy's access hook: 403 for a model the request's key may not use; swapdock's credentials are not sent upstream. */
export function modelAccessCheck(currentConfig: () => SwapdockConfig): ModelAccessCheck {
  return function checkModelAccess(incoming: IncomingHttpHeaders, model: ModelConfig, forwarded: Record<string, string | string[]>) {
    const ring = keyRingFor(currentConfig());
    if (ring.open) return;
    let key = admitted.get(incoming);
    if (!key) {
      // Headers copied by a route (not the object the gate saw): check them afresh.
      const presented = presentedKey(incoming);
      if (presented === undefined) throw new UnauthorizedError('missing_api_key');
      key = ring.match(presented);
      if (!key) throw new UnauthorizedError('invalid_api_key');
    }
    if (!ring.allows(key, model)) throw modelNotAllowed(key, model);
    delete forwarded.authorization;
    delete forwarded['x-api-key'];
    const cookie = forwarded.cookie;
    if (typeof cookie === 'string' && cookie.includes(KEY_COOKIE)) {
      const rest = cookie.split(';').filter((part) => part.trim().split('=')[0] !== KEY_COOKIE).join(';').trim();
      if (rest) forwarded.cookie = rest;
      else delete forwarded.cookie;
    }
  };
}

/** The key of a request (for filtering /v1/models): undefined when keys are off or it has none. */
export function requestKey(config: SwapdockConfig, headers: { authorization?: string; 'x-api-key'?: string }): ApiKey | undefined {
  const ring = keyRingFor(config);
  if (ring.open) return undefined;
  const presented = presentedKey(headers);
  return presented === undefined ? undefined : ring.match(presented);
}
