// A Server-Sent Events response for the observation endpoints (/api/events, /api/logs): a
// WHATWG stream Hono returns as is. `subscribe` wires the listeners and returns their cleanup,
// which runs exactly once when the client disconnects (stream cancelled or request aborted), when
// the client reads too slowly, or when the server closes.

const encoder = new TextEncoder();
/** Chunks a client may fall behind before it is cut off (a stalled client must not grow memory). */
const MAX_BACKLOG = 10_000;

export type SseSend = (event: string, data: unknown) => void;

export function sseResponse(signal: AbortSignal, subscribe: (send: SseSend) => () => void, heartbeatMs = 15_000): Response {
  let closed = false;
  let cleanup: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    signal.removeEventListener('abort', close);
    cleanup?.();
    try {
      controller.close();
    } catch {
      // already closed or errored by the client going away
    }
  };
  const write = (text: string) => {
    if (closed) return;
    if ((controller.desiredSize ?? 0) < -MAX_BACKLOG) return close();
    controller.enqueue(encoder.encode(text));
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      write(': swapdock\n\n');
      heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
      cleanup = subscribe((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      if (signal.aborted) close();
      else signal.addEventListener('abort', close, { once: true });
    },
    cancel: close,
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
  });
}
