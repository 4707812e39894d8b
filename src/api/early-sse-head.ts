// A streaming request that must wait for its model gets its SSE head and a first comment at
// once, then a heartbeat every `heartbeatMs`, so clients with read timeouts keep the connection
// while a model loads. Shared by the OpenAI sink and the Anthropic one (which adds `ping` events).
import type { ServerResponse } from 'node:http';

export interface EarlySseHead {
  /** Stops the heartbeats (the answer or an error follows). */
  stop(): void;
}

/** `heartbeat(seconds)` is written every `heartbeatMs`; `extra` follows the first comment. */
export function sendEarlySseHead(res: ServerResponse, requestId: string, modelId: string, heartbeatMs: number, heartbeat: (waitedSeconds: number) => string, extra = ''): EarlySseHead {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': requestId });
  res.write(`: swapdock: waiting for model '${modelId}' to be ready\n\n${extra}`);
  const started = Date.now();
  const timer = setInterval(() => res.write(heartbeat(Math.round((Date.now() - started) / 1000))), heartbeatMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  res.once('close', stop);
  return { stop };
}
