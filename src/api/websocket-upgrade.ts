// WebSocket (and any other HTTP upgrade) on `/upstream/{model}/{path}`: resolves the model like
// the /upstream route (configured models only), holds a lease on it for the connection's life,
// sends the upgrade request to its container and then copies bytes both ways. Errors before the
// upstream answers are plain HTTP responses with a JSON body (OpenAI error shape).
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ModelNotFoundError, RouteNotFoundError, UpstreamError, errorMessage } from '../errors.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import type { InferenceProxy, ModelAccessCheck } from '../proxy/inference-proxy.js';
import { requestKeyError } from './auth-gate.js';
import type { Lease, Scheduler } from '../scheduler/scheduler.js';
import type { ModelConfig } from '../config/schema.js';
import { renderError } from './error-response.js';
import { logRequest, newRequestId } from './request-log.js';
import { UPSTREAM_PREFIX, decodePathPart, splitUpstreamUrl } from './upstream-route.js';

export interface UpgradeDeps {
  /** The API-key check per model (auth.keys); absent = every model. */
  access?: ModelAccessCheck;
  /** Narrows a "no such model" error to the models the key may use. */
  proxy: Pick<InferenceProxy, 'hideUnusable'>;
  resolver: ModelResolver;
  scheduler: Scheduler;
  log: Logger;
}

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The Node server's 'upgrade' listener: `server.on('upgrade', createUpgradeListener(deps))`. */
export function createUpgradeListener(deps: UpgradeDeps): UpgradeListener {
  return (req, socket, head) => void proxyUpgrade(req, socket as Socket, head, deps);
}

/** The headers to send upstream, once the request's key may use the model (deps.access throws otherwise; it also drops swapdock's own credentials). */
function upstreamHeaders(req: IncomingMessage, model: ModelConfig, deps: UpgradeDeps): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(req.headers)) if (value !== undefined && key !== 'host') forwarded[key] = value;
  deps.access?.(req.headers, model, forwarded);
  return forwarded;
}

async function proxyUpgrade(req: IncomingMessage, client: Socket, head: Buffer, deps: UpgradeDeps): Promise<void> {
  const started = performance.now();
  const requestId = newRequestId(req.headers['x-request-id'] as string | undefined);
  const path = (req.url ?? '/').split('?')[0]!;
  let model: string | undefined;
  let status = 101;
  const abort = new AbortController();
  client.once('close', () => {
    abort.abort(new Error('the client closed the connection'));
    logRequest(deps.log, { requestId, method: req.method ?? 'GET', path, status, durationMs: performance.now() - started, model });
  });
  client.on('error', () => undefined); // a reset client only ends the tunnel
  let lease: Lease | undefined;
  try {
    const refused = requestKeyError(req, deps.scheduler.currentConfig);
    if (refused) throw refused;
    if (!req.url?.startsWith(UPSTREAM_PREFIX)) throw new RouteNotFoundError(`${req.method} (upgrade)`, path);
    const target = splitUpstreamUrl(req.url, deps.resolver.names());
    if (!target) throw new ModelNotFoundError(decodePathPart(req.url.slice(UPSTREAM_PREFIX.length).split(/[/?]/)[0] ?? ''), deps.resolver.names());
    const config = deps.resolver.resolve(target.name);
    model = config.id;
    const headers = upstreamHeaders(req, config, deps);
    lease = await deps.scheduler.acquire(config.id, abort.signal);
    const upstream = await connectTo(lease);
    tunnel(req, client, head, upstream, lease, target.path, headers, (answered) => (status = answered));
  } catch (err) {
    lease?.release();
    if (abort.signal.aborted) return;
    const rendered = renderError(deps.proxy.hideUnusable(err, req.headers), 'openai');
    status = rendered.status;
    if (status >= 500) deps.log.warn({ requestId, model, err: errorMessage(err) }, 'WebSocket upgrade failed');
    const headers = { ...rendered.headers, 'content-length': String(Buffer.byteLength(rendered.body)), 'x-request-id': requestId, connection: 'close' };
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    client.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}\r\n${rendered.body}`);
  }
}

function connectTo(lease: Lease): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: lease.endpoint.host, port: lease.endpoint.port });
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => reject(new UpstreamError(lease.model.id, errorMessage(err)));
    socket.once('error', onError);
  });
}

/** Writes the upgrade request upstream (the path rewritten, Host the container's) and joins the two sockets until either closes. */
function tunnel(req: IncomingMessage, client: Socket, head: Buffer, upstream: Socket, lease: Lease, path: string, headers: Record<string, string | string[]>, onStatus: (status: number) => void): void {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `host: ${lease.endpoint.host}:${lease.endpoint.port}`];
  for (const [key, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${v}`);
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  client.setTimeout(0);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    lease.signal.removeEventListener('abort', close);
    client.destroy();
    upstream.destroy();
    lease.release();
  };
  // A forced unload or a crash of the model ends its connections too.
  lease.signal.addEventListener('abort', close, { once: true });
  upstream.on('error', close).on('close', close);
  client.on('close', close);
  if (client.destroyed) return close(); // the client left while the model started
  // The backend's status (101, or its refusal), for the request log.
  upstream.once('data', (chunk: Buffer) => {
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
    if (status) onStatus(Number(status[1]));
  });
  upstream.pipe(client);
  client.pipe(upstream);
}
