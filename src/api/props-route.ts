// `GET /props?model=<id>`: llama.cpp server's properties (context size, slots, chat template) of
// one model, from its container — started when needed, like any request. `POST /props` names
// the model in its JSON body and takes the inference path (INFERENCE_PATHS).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError } from '../errors.js';
import { renderError } from './error-response.js';
import { beginProxiedRequest } from './request-log.js';
import type { UpstreamRouteDeps } from './upstream-route.js';

export const PROPS_PATH = '/props';

export async function forwardProps(req: IncomingMessage, res: ServerResponse, deps: UpstreamRouteDeps): Promise<void> {
  const { requestId, abort, sink } = beginProxiedRequest(req, res, deps.log, deps.scheduler.events);
  try {
    const url = new URL(req.url ?? '/', 'http://swapdock');
    const name = url.searchParams.get('model');
    if (!name) throw new BadRequestError('GET /props needs the model as a query parameter: /props?model=<id> (a name from GET /v1/models).', 'missing_model');
    const { model } = deps.resolver.resolveForRequest(name);
    await deps.proxy.passthrough(model, { method: 'GET', path: `${PROPS_PATH}${url.search}`, headers: req.headers, body: null, signal: abort.signal }, sink);
  } catch (err) {
    if (abort.signal.aborted || res.headersSent) return;
    const rendered = renderError(deps.proxy.hideUnusable(err, req.headers), 'openai');
    res.writeHead(rendered.status, { ...rendered.headers, 'x-request-id': requestId }).end(rendered.body);
  }
}
