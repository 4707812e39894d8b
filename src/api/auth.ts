// API keys (auth.keys): who may call, which models a key may use, and which routes need an admin
// key. Pure policy, no HTTP: the Node listener (auth-gate.ts), the proxy's access hook and the
// /v1/models list all ask this file. Keys are compared in constant time over SHA-256 digests (so
// neither content nor length leaks through timing; a key that matched once is then found by lookup)
// and never appear in a message or a log line.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ModelConfig, SwapdockConfig } from '../config/schema.js';
import { SwapdockError } from '../errors.js';
import type { Access } from './app-env.js';

/** The cookie the web UI's login page sets; accepted on admin routes only. */
export const KEY_COOKIE = 'swapdock_key';

export interface ApiKey {
  name: string;
  admin: boolean;
  /** Model ids, aliases or globs; undefined = every model. */
  models?: readonly string[];
}

/** The headers a key can come in (a subset of Node's IncomingHttpHeaders). */
export type KeyHeaders = Pick<IncomingHttpHeaders, 'authorization' | 'cookie'> & { 'x-api-key'?: string | string[] };


/** No key, or a key that matches none in auth.keys: 401. */
export class UnauthorizedError extends SwapdockError {
  readonly status = 401;
  readonly type = 'invalid_request_error';
  override readonly headers = { 'www-authenticate': 'Bearer realm="swapdock"' };
  constructor(readonly code: 'missing_api_key' | 'invalid_api_key') {
    super(
      code === 'missing_api_key'
        ? "This endpoint needs an API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'. Ask the swapdock administrator for a key (auth.keys in the config)."
        : 'The API key is not valid: it matches none of the keys in auth.keys. Check the key you send, or ask the swapdock administrator for a new one.',
    );
  }
}

/** A valid key that may not do this: use this model, or an admin route. */
export class ForbiddenError extends SwapdockError {
  readonly status = 403;
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    readonly code: 'model_not_allowed' | 'admin_key_required',
  ) {
    super(message);
  }
}

export function modelNotAllowed(key: ApiKey, model: ModelConfig): ForbiddenError {
  return new ForbiddenError(
    `The API key '${key.name}' may not use model '${model.id}' (it may use: ${key.models?.join(', ') || 'no models'}). ` +
      "Use a model listed by GET /v1/models with this key, or ask the administrator to add it to the key's models.",
    'model_not_allowed',
  );
}

export function adminRequired(key: ApiKey, path: string): ForbiddenError {
  return new ForbiddenError(`${path} needs an admin key, and the API key '${key.name}' is not one (auth.keys[].admin). Use an admin key.`, 'admin_key_required');
}

interface StoredKey extends ApiKey {
  digest: Buffer;
  patterns?: RegExp[];
}

/** The configured keys with their digests, built once per config object. */
export class KeyRing {
  private readonly keys: StoredKey[];
  /** Presented strings that matched a key (a key may arrive with different surrounding text: bounded). */
  private readonly matched = new Map<string, StoredKey>();

  constructor(config: Pick<SwapdockConfig, 'auth'>) {
    this.keys = config.auth.keys.map((k) => ({
      name: k.name,
      admin: k.admin,
      models: k.models,
      digest: digestOf(k.key),
      patterns: k.models?.map(globToRegExp),
    }));
  }

  /** True when no keys are configured: every request is allowed. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  /**
   * The key matching `presented`, or undefined. Every configured key is compared, always, with
   * timingSafeEqual over equal-length digests: the time taken says nothing about which key (or
   * how much of one) matched.
   */
  match(presented: string): ApiKey | undefined {
    // A key that matched before is found without hashing it again (a SHA-256 per request was a
    // measurable share of the proxy's CPU). Only valid keys are remembered, so unknown ones
    // cannot grow the map, and it belongs to this config's ring: a reload starts afresh.
    const known = this.matched.get(presented);
    if (known) return known;
    const digest = digestOf(presented);
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest) && !found) found = key;
    }
    if (found && this.matched.size < this.keys.length * 4) this.matched.set(presented, found);
    return found;
  }

  /** Whether `key` may use `model`: a pattern matching the model's id or any alias allows every name of the model. */
  allows(key: ApiKey, model: ModelConfig): boolean {
    const patterns = (key as StoredKey).patterns;
    if (!patterns) return true;
    return patterns.some((p) => p.test(model.id) || model.aliases.some((a) => p.test(a)));
  }
}

const rings = new WeakMap<object, KeyRing>();

/** The key ring of a config, cached per config object (a hot reload brings a new object, so new keys). */
export function keyRingFor(config: Pick<SwapdockConfig, 'auth'>): KeyRing {
  let ring = rings.get(config);
  if (!ring) rings.set(config, (ring = new KeyRing(config)));
  return ring;
}

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** `qwen-*` → /^qwen-.*$/; `?` is one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, else `x-api-key: <key>`, else (only
 * where `cookie` is true: the web UI's admin routes) the swapdock_key cookie.
 */
export function presentedKey(headers: KeyHeaders, cookie = false): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = headers['x-api-key'];
  const value = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  if (value) return value.trim();
  if (cookie && headers.cookie) return cookieValue(headers.cookie, KEY_COOKIE);
  return undefined;
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}



/**
 * Checks a request against the keys: returns the key (undefined when none are configured) or
 * throws 401 (no or unknown key) / 403 (an admin route with a non-admin key).
 */
export function authorize(ring: KeyRing, headers: KeyHeaders, access: Access, path: string): ApiKey | undefined {
  if (ring.open || access === 'public') return undefined;
  const presented = presentedKey(headers, access === 'admin');
  if (presented === undefined) throw new UnauthorizedError('missing_api_key');
  const key = ring.match(presented);
  if (!key) throw new UnauthorizedError('invalid_api_key');
  if (access === 'admin' && !key.admin) throw adminRequired(key, path);
  return key;
}

/** Entries of GET /v1/models (models and aliases) that `key` may use. */
export function visibleTo<E extends { id: string; alias_of?: string }>(entries: E[], config: SwapdockConfig, key: ApiKey | undefined): E[] {
  if (!key?.models) return entries;
  const ring = keyRingFor(config);
  return entries.filter((e) => {
    const model = config.models.get(e.alias_of ?? e.id);
    return model !== undefined && ring.allows(key, model);
  });
}
