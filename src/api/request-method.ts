// HEAD requests are routed as GET (node-listener.ts says why); what the client sent stays known.
import type { IncomingMessage } from 'node:http';

const headRequests = new WeakSet<IncomingMessage>();

export function routeHeadAsGet(req: IncomingMessage): void {
  headRequests.add(req);
  req.method = 'GET';
}

/** The method the client sent (HEAD stays HEAD). */
export function requestMethod(req: IncomingMessage): string {
  return headRequests.has(req) ? 'HEAD' : (req.method ?? 'GET');
}
