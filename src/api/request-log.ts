// One log line per request with a stable set of keys, and a per-request child logger.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { NodeResponseSink } from '../proxy/node-response.js';

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

/** What every proxied request needs: an id, a sink into the Node response, an abort for a client that leaves, and one log line at the end. */
export function beginProxiedRequest(req: IncomingMessage, res: ServerResponse, log: Logger) {
  const started = performance.now();
  const requestId = newRequestId(req.headers['x-request-id'] as string | undefined);
  const abort = new AbortController();
  const sink = new NodeResponseSink(res, requestId);
  res.once('close', () => {
    if (!res.writableFinished) {
      const reason = new Error('the client closed the connection');
      abort.abort(reason); // a wait for the model or for a connection
      sink.clientGone(reason); // the upstream request, once it is out
    }
    const url = req.url ?? '/';
    logRequest(log, {
      requestId,
      method: req.method ?? 'GET',
      path: url.split('?')[0]!,
      status: res.writableFinished ? res.statusCode : 499,
      durationMs: performance.now() - started,
      model: sink.modelId,
    });
  });
  return { requestId, abort, sink };
}
