// The one place errors become HTTP responses: OpenAI's `{"error":{message,type,code}}`, or
// Anthropic's `{"type":"error","error":{type,message}}` on Anthropic routes. Never HTML, never a bare string.
import { SwapdockError } from '../errors.js';

export type ErrorDialect = 'openai' | 'anthropic';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
};

export function renderError(err: unknown, dialect: ErrorDialect = 'openai'): RenderedError {
  const known = err instanceof SwapdockError;
  const status = known ? err.status : 500;
  const message = known ? err.message : 'swapdock hit an internal error; the details are in its log. Retry, and report it if it repeats.';
  const type = known ? err.type : 'server_error';
  const code = known ? err.code : 'internal_error';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (known && err.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterSeconds));
  const payload =
    dialect === 'anthropic'
      ? { type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? 'api_error', message } }
      : { error: { message, type, code } };
  return { status, headers, body: JSON.stringify(payload) };
}

export function dialectForPath(path: string): ErrorDialect {
  return path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}
