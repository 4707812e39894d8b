// Server-Sent Events for the observation endpoints (/api/events, /api/logs), written straight
// into the Node response. Events are batched: those of one turn of the event loop go out in one
// write, and of several `queue` events of one model in a batch only the newest is sent (they
// carry counts, not history) — with a UI open, every proxied request would otherwise cost three
// socket writes. `subscribe` wires the listeners and returns their cleanup, which runs exactly
// once: when the client goes away, reads too slowly, or the server closes.
import type { ServerResponse } from 'node:http';

/** Bytes a client may fall behind before it is cut off (a stalled client must not grow memory). */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

export type SseSend = (event: string, data: unknown) => void;

/** `coalesceKey` names events of which only the newest in a batch matters (e.g. `queue` per model). */
export type CoalesceKey = (event: string, data: unknown) => string | undefined;

export function writeSse(res: ServerResponse, signal: AbortSignal, subscribe: (send: SseSend) => () => void, options: { heartbeatMs?: number; coalesceKey?: CoalesceKey } = {}): void {
  let closed = false;
  let pending: { event: string; data: unknown; key?: string }[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (closed || pending.length === 0) return;
    let text = '';
    for (const { event, data } of pending) text += `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    pending = [];
    if (res.writableLength > MAX_BACKLOG_BYTES) return close();
    res.write(text);
  };
  const send: SseSend = (event, data) => {
    if (closed) return;
    const key = options.coalesceKey?.(event, data);
    const earlier = key === undefined ? -1 : pending.findIndex((p) => p.key === key);
    if (earlier === -1) pending.push({ event, data, key });
    else pending[earlier] = { event, data, key };
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  let cleanup: (() => void) | undefined;
  function close() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    signal.removeEventListener('abort', close);
    cleanup?.();
    if (!res.writableEnded) res.end();
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.write(': swapdock\n\n');
  cleanup = subscribe(send);
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
  res.once('close', close);
}
