// `GET /props?model=<id>`: llama.cpp server's properties (context size, slots, chat template) of
// one model, from its container — started when needed, like any request. `POST /props` names
// the model in its JSON body and is an inference route.
import type { Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { BadRequestError } from '../errors.js';
import type { AppEnv } from './app-env.js';
import { NodeResponseSink } from './node-response.js';
import { attachSink } from './proxied.js';
import type { UpstreamRouteDeps } from './upstream-route.js';

export function propsHandler(deps: UpstreamRouteDeps): Handler<AppEnv> {
  return async function forwardProps(c) {
    const req = c.env.incoming;
    const tracked = c.var.tracked;
    const sink = attachSink(tracked, new NodeResponseSink(c.env.outgoing!, tracked.requestId, tracked.meter), deps.log);
    const url = new URL(req.url ?? '/', 'http://swapdock');
    const name = url.searchParams.get('model');
    if (!name) throw new BadRequestError('GET /props needs the model as a query parameter: /props?model=<id> (a name from GET /v1/models).', 'missing_model');
    const { model } = deps.resolver.resolveForRequest(name);
    await deps.proxy.passthrough(model, { method: 'GET', path: `${url.pathname}${url.search}`, headers: req.headers, body: null, signal: tracked.abort }, sink);
    return RESPONSE_ALREADY_SENT;
  };
}
