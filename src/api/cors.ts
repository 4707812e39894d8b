// CORS (cors.origins): off by default. With origins listed, a browser page from one of them may
// call swapdock: preflights (OPTIONS) are answered here, before the key check (browsers send no
// credentials on a preflight), and every response to an allowed origin carries
// access-control-allow-origin. Runs as middleware on every route (middleware.ts); a request
// without an Origin header costs nothing beyond reading that header.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SwapdockConfig } from '../config/schema.js';
import { OriginNotAllowedError } from './http-errors.js';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
/** What the OpenAI and Anthropic clients send; a preflight's own list is allowed on top. */
const ALLOW_HEADERS = ['authorization', 'x-api-key', 'content-type', 'anthropic-version', 'anthropic-beta', 'x-request-id'];
const EXPOSE_HEADERS = 'x-request-id, retry-after';
const MAX_AGE_SECONDS = '600';

interface CorsPolicy {
  any: boolean;
  origins: Set<string>;
}

const policies = new WeakMap<object, CorsPolicy | null>();

/** The CORS policy of a config (cached per config object); null when CORS is off. */
function policyFor(config: Pick<SwapdockConfig, 'cors'>): CorsPolicy | null {
  let policy = policies.get(config);
  if (policy === undefined) {
    const origins = config.cors.origins.map(normalizeOrigin);
    policy = origins.length ? { any: origins.includes('*'), origins: new Set(origins) } : null;
    policies.set(config, policy);
  }
  return policy;
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * Adds CORS headers for a request from `origin`; answers a preflight itself. Returns true when the
 * response was sent (a preflight), false when the request goes on; throws OriginNotAllowedError
 * for a preflight from an origin that is not allowed.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, config: Pick<SwapdockConfig, 'cors'>, origin: string): boolean {
  const policy = policyFor(config);
  if (!policy) return false;
  const allowed = policy.any || policy.origins.has(normalizeOrigin(origin));
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (!allowed) {
    if (!preflight) return false; // no CORS headers: the browser keeps the response from the page
    throw new OriginNotAllowedError(origin);
  }
  const allowOrigin = policy.any ? '*' : origin;
  if (preflight) {
    const requested = req.headers['access-control-request-headers'];
    const headers = requested ? `${ALLOW_HEADERS.join(', ')}, ${requested}` : ALLOW_HEADERS.join(', ');
    res
      .writeHead(204, {
        'access-control-allow-origin': allowOrigin,
        'access-control-allow-methods': ALLOW_METHODS,
        'access-control-allow-headers': headers,
        'access-control-max-age': MAX_AGE_SECONDS,
        vary: 'Origin, Access-Control-Request-Headers',
      })
      .end();
    return true;
  }
  res.setHeader('access-control-allow-origin', allowOrigin);
  res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
  res.setHeader('vary', 'Origin');
  return false;
}
