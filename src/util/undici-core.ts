// undici's connection pools and request API without the rest of undici. `import 'undici'` also
// loads fetch, WebSocket, EventSource, caches, mocks and proxies — about 9 MB of memory held for
// the process's life — none of which swapdock uses: it needs Pool (the upstream connections),
// Client (sleep calls) and request() (readiness probes). This loads those files and adds the
// request API to the dispatchers exactly as undici's own index does (idempotent when something
// else loads all of undici). Types come from undici itself.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export type Pool = Undici.Pool;
export type Client = Undici.Client;
const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;

let agent: Undici.Agent | undefined;

/** undici's `request(url, options)`, on one kept-alive agent of swapdock's own. */
export function request(url: string, options: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { method: Undici.Dispatcher.HttpMethod }): Promise<Undici.Dispatcher.ResponseData> {
  const { origin, pathname, search } = new URL(url);
  agent ??= new Agent();
  return agent.request({ ...options, origin, path: `${pathname}${search}` });
}
