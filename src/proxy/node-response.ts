// Writes an upstream response into a Node ServerResponse, chunk by chunk as it arrives: the
// sink InferenceProxy.forward() calls as undici parses the response. No stream sits between the
// two sockets — neither undici's body Readable nor .pipe() (shared/docs/performance.md: every
// stream layer costs per request and per chunk). Each res.write() corks the socket until the
// end of the tick, so a small answer and its end go out in one write, and each streamed chunk
// goes out at once.
import type { ServerResponse } from 'node:http';
import type { ModelConfig } from '../config/schema.js';
import type { UpstreamControl, UpstreamSink } from './inference-proxy.js';
import { isEventStream, streamErrorEvent } from './stream-errors.js';

export class NodeResponseSink implements UpstreamSink {
  /** Set once the upstream head arrived (the model that answered), for the request log. */
  modelId: string | undefined;
  private control: UpstreamControl | undefined;
  private sse = false;
  private readonly resume = () => this.control?.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
  ) {}

  /** The client went away before the end: cancel the upstream request, if it is out. */
  clientGone(reason: Error): void {
    this.control?.abort(reason);
  }

  onStart(control: UpstreamControl): void {
    this.control = control;
  }

  onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void {
    this.control = control;
    this.modelId = model.id;
    this.sse = isEventStream(headers);
    // The backend's own x-request-id, if it sends one, wins (as writeHead wins over setHeader).
    headers['x-request-id'] ??= this.requestId;
    // One writeHead with every header and no setHeader() before it: Node's fast path.
    this.res.writeHead(statusCode, headers);
  }

  onData(chunk: Buffer): void {
    // Backpressure: a slow client pauses the upstream instead of buffering the answer here.
    if (!this.res.write(chunk)) {
      this.control?.pause();
      this.res.once('drain', this.resume);
    }
  }

  onEnd(): void {
    this.res.end();
  }

  onBroken(err: Error): void {
    // The backend broke mid-response. An SSE client gets a last error event it can show; anything
    // else is cut, so the client sees an incomplete body rather than a silently short one.
    if (this.sse && !this.res.writableEnded && !this.res.destroyed) this.res.end(streamErrorEvent(this.modelId!, err));
    else this.res.destroy(err);
  }
}
