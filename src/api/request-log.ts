// One log line per request with a stable set of keys, and a per-request child logger.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { NodeResponseSink } from '../proxy/node-response.js';
import { ResponseMeter } from '../proxy/response-meter.js';
import type { RequestEvent, SchedulerEvents } from '../scheduler/scheduler-events.js';

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

export function newRequestId(incoming?: string | null): string {
  return incoming && incoming.length <= 128 ? incoming : randomUUID();
}

export function requestLogger(log: Logger): MiddlewareHandler<{ Variables: { log: Logger; requestId: string; model: string } }> {
  return async function logEachRequest(c, next) {
    const started = performance.now();
    const requestId = newRequestId(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('log', log.child({ requestId }));
    await next();
    c.header('x-request-id', requestId);
    const model = c.get('model') as string | undefined;
    if (c.req.path === '/health') return; // liveness probes would drown the log
    logRequest(log, { requestId, method: c.req.method, path: c.req.path, status: c.res.status, durationMs: performance.now() - started, model });
  };
}

/** What the request log needs of a sink: the model that answered, and how to cancel the upstream. */
export interface TrackedSink {
  modelId: string | undefined;
  clientGone(reason: Error): void;
}

/**
 * What every proxied request needs: an id, an abort for a client that leaves, one log line at
 * the end and, with `events`, one `request` event (status, duration, time to first byte, wait,
 * tokens from the response's `usage`, read by `meter`). The route sets `sink` once it has one
 * (or `model`, when it answers without a sink).
 */
export function trackProxiedRequest(req: IncomingMessage, res: ServerResponse, log: Logger, events?: SchedulerEvents) {
  const started = performance.now();
  const tracked = {
    requestId: newRequestId(req.headers['x-request-id'] as string | undefined),
    abort: new AbortController(),
    meter: events && new ResponseMeter(),
    sink: undefined as TrackedSink | undefined,
    model: undefined as string | undefined,
  };
  res.once('close', () => {
    if (!res.writableFinished) {
      const reason = new Error('the client closed the connection');
      tracked.abort.abort(reason); // a wait for the model or for a connection
      tracked.sink?.clientGone(reason); // the upstream request, once it is out
    }
    const url = req.url ?? '/';
    const fields: RequestLogFields = {
      requestId: tracked.requestId,
      method: req.method ?? 'GET',
      path: url.split('?')[0]!,
      status: res.writableFinished ? res.statusCode : 499,
      durationMs: performance.now() - started,
      model: tracked.sink?.modelId ?? tracked.model,
    };
    logRequest(log, fields);
    if (events && tracked.meter) events.emit('request', requestEvent(fields, started, tracked.meter));
  });
  return tracked;
}

/** trackProxiedRequest() with a sink into the Node response (the OpenAI-shaped routes). */
export function beginProxiedRequest(req: IncomingMessage, res: ServerResponse, log: Logger, events?: SchedulerEvents) {
  const tracked = trackProxiedRequest(req, res, log, events);
  const sink = new NodeResponseSink(res, tracked.requestId, tracked.meter);
  tracked.sink = sink;
  return { requestId: tracked.requestId, abort: tracked.abort, sink };
}

/** The `request` event of a finished request (also used by anthropic-route.ts). */
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
