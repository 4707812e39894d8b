// The one place errors become bytes on the wire: a JSON body (OpenAI's
// `{"error":{message,type,code}}`, or Anthropic's `{"type":"error","error":{type,message}}` on
// Anthropic routes), an SSE error event once a stream has begun, or a raw HTTP response on a
// socket (a refused WebSocket upgrade, a request Node's parser rejected). Never HTML, never a bare
// string. src/api/error-response.ts sends them (sendError) and logs 5xx the same way everywhere.
import { STATUS_CODES } from 'node:http';
import { SwapdockError } from './errors.js';

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
  408: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  431: 'request_too_large',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
};

const INTERNAL_MESSAGE = 'swapdock hit an internal error; the details are in its log. Retry, and report it if it repeats.';

interface ErrorFields {
  status: number;
  message: string;
  type: string;
  code: string;
}

function fieldsOf(err: unknown): ErrorFields {
  if (err instanceof SwapdockError) return { status: err.status, message: err.message, type: err.type, code: err.code };
  return { status: 500, message: INTERNAL_MESSAGE, type: 'server_error', code: 'internal_error' };
}

function payloadOf(fields: ErrorFields, dialect: ErrorDialect, details?: Record<string, unknown>): object {
  return dialect === 'anthropic'
    ? { type: 'error', error: { type: ANTHROPIC_TYPES[fields.status] ?? 'api_error', message: fields.message } }
    : { error: { message: fields.message, type: fields.type, code: fields.code }, ...details };
}

/** Status, headers and JSON body of an error; unexpected errors never show their internals. */
export function renderError(err: unknown, dialect: ErrorDialect = 'openai'): RenderedError {
  const fields = fieldsOf(err);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (err instanceof SwapdockError) {
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterSeconds));
    if (err.headers) Object.assign(headers, err.headers);
  }
  const details = err instanceof SwapdockError ? err.details : undefined;
  return { status: fields.status, headers, body: JSON.stringify(payloadOf(fields, dialect, details)) };
}

/**
 * The error as the last event of a stream whose head is already out: OpenAI SDKs raise a `data:`
 * event carrying `error` as an APIError, Anthropic SDKs an `event: error`.
 */
export function renderErrorEvent(err: unknown, dialect: ErrorDialect = 'openai'): string {
  const fields = fieldsOf(err);
  if (dialect === 'anthropic') return `event: error\ndata: ${JSON.stringify(payloadOf(fields, 'anthropic'))}\n\n`;
  return `data: ${JSON.stringify(payloadOf(fields, 'openai'))}\n\n`;
}

/** A complete HTTP/1.1 response for a raw socket (refused upgrades, unparsable requests); it closes the connection. */
export function renderRawResponse(err: unknown, dialect: ErrorDialect = 'openai', options: { withBody?: boolean } = {}): string {
  const { status, headers, body } = renderError(err, dialect);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${options.withBody === false ? '' : body}`;
}

