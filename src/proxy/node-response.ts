// Writes an upstream response into a Node ServerResponse, chunk by chunk as it arrives: the
// sink InferenceProxy.forward() calls as undici parses the response. No stream sits between the
// two sockets — neither undici's body Readable nor .pipe() (measured: every
// stream layer costs per request and per chunk). Each res.write() corks the socket until the
// end of the tick, so a small answer and its end go out in one write, and each streamed chunk
// goes out at once.
import type { ModelConfig } from '../config/schema.js';
import type { UpstreamControl } from './inference-proxy.js';
import { ResponseSinkBase } from './response-sink-base.js';
import { isEventStream, sseEvent, streamErrorEvent } from './stream-errors.js';
import { sendEarlySseHead, type EarlySseHead } from './early-sse-head.js';

export class NodeResponseSink extends ResponseSinkBase {
  /** Set when SSE headers went out early, while the request waited for its model. */
  private waiting?: EarlySseHead;
  /** After an early head: a non-SSE upstream answer, collected to be sent as one event. */
  private wrapped?: { statusCode: number; chunks: Buffer[] };

  /**
   * The request must wait for its model: send SSE headers and a comment at once, then a comment
   * every `heartbeatMs`, so clients with read timeouts keep the connection while a model loads.
   */
  beginWaiting(model: ModelConfig, heartbeatMs: number): void {
    if (this.res.headersSent) return;
    this.modelId = model.id;
    this.sse = true;
    this.waiting = sendEarlySseHead(this.res, this.requestId, model.id, heartbeatMs, (s) => `: swapdock: still waiting for '${model.id}' (${s} s)\n\n`);
  }

  /** Headers already went out: whatever the outcome, it must be told as SSE events. */
  get answeredEarly(): boolean {
    return this.waiting !== undefined;
  }

  /** Ends an early-answered stream with an error event (a failed load, a full queue…). */
  failEarly(errorBody: string): void {
    this.waiting?.stop();
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end(sseEvent(errorBody));
  }

  onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void {
    this.control = control;
    this.modelId = model.id;
    if (this.waiting) {
      this.waiting.stop();
      // Our own SSE head is out: pass an SSE answer through; wrap anything else as one event.
      if (statusCode !== 200 || !isEventStream(headers)) this.wrapped = { statusCode, chunks: [] };
      return;
    }
    this.sse = isEventStream(headers);
    // The backend's own x-request-id, if it sends one, wins (as writeHead wins over setHeader).
    headers['x-request-id'] ??= this.requestId;
    // One writeHead with every header and no setHeader() before it: Node's fast path.
    this.res.writeHead(statusCode, headers);
  }

  onData(chunk: Buffer): void {
    this.meter?.onData(chunk);
    if (this.wrapped) return void this.wrapped.chunks.push(chunk);
    this.write(chunk);
  }

  onEnd(): void {
    if (!this.wrapped) return void this.res.end();
    const body = Buffer.concat(this.wrapped.chunks).toString('utf8');
    if (this.wrapped.statusCode >= 400) {
      this.res.end(sseEvent(body.trim().startsWith('{') ? body : JSON.stringify({ error: { message: body, type: 'upstream_error', code: `upstream_${this.wrapped.statusCode}` } })));
    } else this.res.end(`${sseEvent(body)}data: [DONE]\n\n`);
  }

  onBroken(err: Error): void {
    // The backend broke mid-response. An SSE client gets a last error event it can show; anything
    // else is cut, so the client sees an incomplete body rather than a silently short one.
    if (this.sse && !this.res.writableEnded && !this.res.destroyed) this.res.end(streamErrorEvent(this.modelId!, err));
    else this.res.destroy(err);
  }
}
