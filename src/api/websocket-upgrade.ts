// WebSocket (and any other HTTP upgrade) on `/upstream/{model}/{path}`: holds a lease on the
// model for the connection's life, sends the upgrade request to its container and then copies
// bytes both ways. The route (upstream-route.ts) resolves the model; errors before the upstream
// answers are HTTP responses with a JSON body, written on the socket by the app's error handler.
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { UpstreamError, errorMessage } from '../errors.js';
import type { ModelAccessCheck } from '../proxy/inference-proxy.js';
import type { Lease, Scheduler } from '../scheduler/scheduler.js';
import type { ModelConfig } from '../config/schema.js';
import type { TrackedRequest, UpgradeBinding } from './app-env.js';

export interface UpgradeDeps {
  /** The API-key check per model (auth.keys); absent = every model. */
  access?: ModelAccessCheck;
  scheduler: Scheduler;
}

/** The headers to send upstream, once the request's key may use the model (deps.access throws otherwise; it also drops swapdock's own credentials). */
function upstreamHeaders(req: IncomingMessage, model: ModelConfig, deps: UpgradeDeps): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(req.headers)) if (value !== undefined && key !== 'host') forwarded[key] = value;
  deps.access?.(req.headers, model, forwarded);
  return forwarded;
}

/**
 * Connects an upgrade on `/upstream/{model}/{path}` to the model's container (started if needed)
 * and joins the sockets. Throws, having sent nothing, when that fails: the app then answers the
 * socket with the error (create-app.ts).
 */
export async function proxyUpgrade(req: IncomingMessage, upgrade: UpgradeBinding, model: ModelConfig, path: string, tracked: TrackedRequest, deps: UpgradeDeps): Promise<void> {
  const client = upgrade.socket as Socket;
  client.on('error', () => undefined); // a reset client only ends the tunnel
  const headers = upstreamHeaders(req, model, deps);
  const lease = await deps.scheduler.acquire(model.id, tracked.abort);
  let upstream: Socket;
  try {
    upstream = await connectTo(lease);
  } catch (err) {
    lease.release();
    throw err;
  }
  tracked.status = 101;
  tunnel(req, client, upgrade.head, upstream, lease, path, headers, (answered) => (tracked.status = answered));
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
    lease.onRevoke(undefined);
    client.destroy();
    upstream.destroy();
    lease.release();
  };
  // A forced unload or a crash of the model ends its connections too.
  lease.onRevoke(close);
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
