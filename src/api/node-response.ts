// Writes an upstream response into a Node ServerResponse, chunk by chunk as it arrives: the
// sink InferenceProxy.forward() calls as undici parses the response. No stream sits between the
// two sockets — neither undici's body Readable nor .pipe() (measured: every
// stream layer costs per request and per chunk). Each res.write() corks the socket until the
// end of the tick, so a small answer and its end go out in one write, and each streamed chunk
// goes out at once.
import type { ModelConfig } from '../config/schema.js';
import { UpstreamStreamBrokenError } from '../errors.js';
import type { UpstreamControl } from '../proxy/inference-proxy.js';
import { isEventStream } from '../proxy/event-stream.js';
import { ResponseSinkBase } from './response-sink-base.js';
import { sendEarlySseHead } from './early-sse-head.js';

/** A backend's own answer as one SSE `data:` event (a JSON body on one line). */
function sseEvent(json: string): string {
  return `data: ${json.replace(/\n/g, '')}\n\n`;
}

export class NodeResponseSink extends ResponseSinkBase {
  protected readonly dialect = 'openai';
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
    this.settle();
    if (!this.wrapped) return void this.res.end();
    const body = Buffer.concat(this.wrapped.chunks).toString('utf8');
    if (this.wrapped.statusCode >= 400) {
      this.res.end(sseEvent(body.trim().startsWith('{') ? body : JSON.stringify({ error: { message: body, type: 'upstream_error', code: `upstream_${this.wrapped.statusCode}` } })));
    } else this.res.end(`${sseEvent(body)}data: [DONE]\n\n`);
  }

  onBroken(err: Error): void {
    this.settle();
    // The backend broke mid-response. An SSE client gets a last error event it can show; anything
    // else is cut, so the client sees an incomplete body rather than a silently short one.
    this.fail(new UpstreamStreamBrokenError(this.modelId!, err));
  }
}
