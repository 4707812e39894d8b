// One log line per request with a stable set of keys, and the `request` event of a proxied one
// (written by the request-tracking middleware, middleware.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResponseMeter } from '../proxy/response-meter.js';
import type { RequestEvent } from '../scheduler/scheduler-events.js';

export interface RequestLogFields {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  model?: string;
}

export function logRequest(log: Logger, fields: RequestLogFields): void {
  const level = fields.status >= 500 ? 'warn' : 'info';
  log[level](fields, `${fields.method} ${fields.path} → ${fields.status} in ${fields.durationMs.toFixed(1)} ms`);
}

export function newRequestId(incoming?: string | string[] | null): string {
  return typeof incoming === 'string' && incoming.length <= 128 ? incoming : randomUUID();
}

/** The `request` event of a finished request. */
export function requestEvent(fields: RequestLogFields, started: number, meter: ResponseMeter): RequestEvent {
  // One object literal of a fixed shape (no `delete`): it stays a fast object for every listener.
  return {
    requestId: fields.requestId,
    model: fields.model,
    method: fields.method,
    path: fields.path,
    status: fields.status,
    durationMs: round(fields.durationMs),
    ttftMs: meter.firstByteAt === undefined ? undefined : round(meter.firstByteAt - started),
    waitMs: meter.dispatchedAt === undefined ? undefined : round(meter.dispatchedAt - started),
    tokensIn: meter.tokensIn,
    tokensOut: meter.tokensOut,
    at: Date.now(),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
