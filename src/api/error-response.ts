// Sends an error on a Node response, the same way on every route: the body comes from the one
// renderer (src/error-render.ts), 5xx are logged here, once.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { renderError, renderErrorEvent, type ErrorDialect } from '../error-render.js';

export { renderError, renderErrorEvent, renderRawResponse, type ErrorDialect, type RenderedError } from '../error-render.js';

export interface SendErrorContext {
  dialect: ErrorDialect;
  requestId?: string;
  log?: Logger;
  /** The response under way is an SSE stream: the error goes as its last event. */
  sse?: boolean;
}

/**
 * Answers `res` with `err`: a JSON error while nothing was sent; the error event when an SSE
 * stream is under way; otherwise (a body half sent) the connection is cut, so the client sees an
 * incomplete answer rather than a silently short one. 5xx are logged, once, here.
 */
export function sendError(res: ServerResponse, err: unknown, context: SendErrorContext): void {
  if (res.writableEnded || res.destroyed) return;
  const rendered = renderError(err, context.dialect);
  if (rendered.status >= 500) context.log?.warn({ requestId: context.requestId, status: rendered.status, err: errorMessage(err) }, `Request failed: ${errorMessage(err)}`);
  if (!res.headersSent) {
    if (context.requestId) rendered.headers['x-request-id'] = context.requestId;
    rendered.headers['content-length'] = String(Buffer.byteLength(rendered.body));
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  } else if (context.sse) {
    res.end(renderErrorEvent(err, context.dialect));
  } else {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
