// What a proxied route shares: its sink joins the request's tracking — the log line and the
// `request` event name the model that answered, a client that leaves cancels the upstream
// request, and an error thrown by the handler is told through the sink (as an SSE event when its
// head already went out while the model loaded).
import type { Logger } from 'pino';
import type { TrackedRequest } from './app-env.js';
import type { ResponseSinkBase } from './response-sink-base.js';

export function attachSink<S extends ResponseSinkBase>(tracked: TrackedRequest, sink: S, log: Logger): S {
  sink.log = log;
  tracked.sink = sink;
  tracked.modelOf = () => sink.modelId ?? tracked.model;
  tracked.clientGone = (reason) => sink.clientGone(reason);
  return sink;
}
