// The Node server's listeners. Every request — plain or an HTTP upgrade — has its target made
// canonical (request-target.ts) and then goes to the one app (create-app.ts): one routing table,
// one middleware chain. Proxied routes write straight into the Node response (no WHATWG
// Request/Response per call: @hono/node-server builds a lightweight request only when asked).
// A request Node's own parser refuses gets the same JSON errors ('clientError').
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { renderError, renderRawResponse, sendError } from './error-response.js';
import { InvalidRequestTargetError, MalformedRequestError } from './http-errors.js';
import { canonicalTarget } from './request-target.js';
import { routeHeadAsGet } from './request-method.js';
import { dialectOfTarget } from './routes.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** `createServer(createNodeListener(app))`. */
export function createNodeListener(app: Hono<AppEnv>): NodeListener {
  const viaApp = getRequestListener(app.fetch, {
    hostname: 'swapdock', // a request without a Host header still routes
    // Whatever @hono/node-server cannot turn into a request (a bad Host header) is the client's error.
    errorHandler: (err) => {
      const rendered = renderError(new InvalidRequestTargetError(err instanceof Error ? err.message : String(err)));
      return new Response(rendered.body, { status: rendered.status, headers: rendered.headers });
    },
  });
  return function handleRequest(req, res) {
    const raw = req.url ?? '/';
    try {
      req.url = canonicalTarget(raw);
    } catch (err) {
      return sendError(res, err, { dialect: dialectOfTarget(raw) });
    }
    // Hono answers HEAD by running GET and wrapping its Response, which would write a second head
    // after a route that wrote its own. Node's response already knows it answers a HEAD (no body
    // goes out), so the app sees GET; /upstream reads the method the client sent (requestMethod).
    if (req.method === 'HEAD') routeHeadAsGet(req);
    void viaApp(req, res);
  };
}


/** `server.on('upgrade', createUpgradeListener(app))`: the upgrade goes through the same table and chain. */
export function createUpgradeListener(app: Hono<AppEnv>): UpgradeListener {
  return function handleUpgrade(req, socket, head) {
    const raw = req.url ?? '/';
    let request: Request;
    try {
      req.url = canonicalTarget(raw);
      request = new Request(`http://swapdock${req.url}`, { method: req.method });
    } catch (err) {
      socket.end(renderRawResponse(err instanceof InvalidRequestTargetError ? err : new InvalidRequestTargetError(String(err)), dialectOfTarget(raw)));
      return;
    }
    Promise.resolve(app.fetch(request, { incoming: req, upgrade: { socket, head } })).catch((err) => socket.end(renderRawResponse(err)));
  };
}

interface ParserError extends Error {
  code?: string;
  /** The bytes Node's parser choked on (the start of the request, for a head that failed). */
  rawPacket?: Buffer;
}

/** `server.on('clientError', clientErrorListener(limit))`: a JSON error instead of Node's bare 400. */
export function clientErrorListener(maxHeaderBytes: number) {
  return function answerClientError(err: ParserError, socket: Duplex): void {
    // A reset connection, or one whose response already began: nobody to answer, or too late to.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const start = err.rawPacket?.subarray(0, 64).toString('latin1') ?? '';
    const target = / (\S+)/.exec(start)?.[1] ?? '/';
    socket.end(renderRawResponse(MalformedRequestError.fromParser(err, maxHeaderBytes), dialectOfTarget(target), { withBody: !start.startsWith('HEAD ') }));
  };
}
