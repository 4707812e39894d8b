// The per-model side of the API-key policy (auth.ts): the proxy's access hook, which checks the
// key the gate admitted (middleware.ts) against the model a request names, and the key of a
// request for filtering /v1/models. Keys are read from the config in force on every request, so
// a hot reload takes effect at once. With no keys configured each costs one WeakMap lookup.
import type { IncomingHttpHeaders } from 'node:http';
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { ModelAccessCheck } from '../proxy/inference-proxy.js';
import { type ApiKey, KEY_COOKIE, UnauthorizedError, keyRingFor, modelNotAllowed, presentedKey } from './auth.js';

/** The key each admitted request presented, so the model check need not hash it again. */
const admitted = new WeakMap<IncomingHttpHeaders, ApiKey>();

/** Records the key a request was admitted with (by the key gate, middleware.ts), so the model check need not match it again. */
export function rememberKey(headers: IncomingHttpHeaders, key: ApiKey | undefined): void {
  if (key) admitted.set(headers, key);
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
