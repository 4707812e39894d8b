// One log line per request with a stable set of keys, and a per-request child logger.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

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
