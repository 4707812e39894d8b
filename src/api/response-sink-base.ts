// What every sink writing an upstream response into a Node ServerResponse shares: the upstream's
// flow control, cancelling it when the client leaves, the meter, and writes with backpressure.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import type { UpstreamControl, UpstreamSink } from '../proxy/inference-proxy.js';
import type { ResponseMeter } from '../proxy/response-meter.js';
import type { EarlySseHead } from './early-sse-head.js';
import { sendError, type ErrorDialect } from './error-response.js';

export abstract class ResponseSinkBase implements UpstreamSink {
  /** Set once the model is known (the one that answered, or is being waited for), for the request log. */
  modelId: string | undefined;
  protected control: UpstreamControl | undefined;
  /** The client is being answered with SSE (ours or the backend's). */
  protected sse = false;
  /** Set when SSE headers went out early, while the request waited for its model. */
  protected waiting?: EarlySseHead;
  /** Where failures are logged (sendError logs 5xx). */
  log?: Logger;
  protected abstract readonly dialect: ErrorDialect;
  private readonly resume = () => this.control?.resume();

  constructor(
    protected readonly res: ServerResponse,
    protected readonly requestId: string,
    /** Optional: time to first byte and token usage, for the `request` event. */
    protected readonly meter?: ResponseMeter,
  ) {}

  /** The client went away before the end: cancel the upstream request, if it is out. */
  clientGone(reason: Error): void {
    this.control?.abort(reason);
  }

  onStart(control: UpstreamControl): void {
    this.control = control;
    this.meter?.onDispatch();
  }

  /**
   * The upstream exchange is over (answer complete, or broken): nothing is left to pause, resume
   * or abort, so undici's controller is let go. A sink that kept it kept every request's objects
   * alive into V8's old generation (about 3 KB per request at one connection: long young-generation
   * pauses, the p99 latency).
   */
  protected settle(): void {
    this.control = undefined;
  }

  /** Backpressure: a slow client pauses the upstream instead of buffering the answer here. */
  protected write(out: Buffer | string): void {
    if (!this.res.write(out)) {
      this.control?.pause();
      this.res.once('drain', this.resume);
    }
  }

  /** Headers already went out while the request waited: whatever the outcome, it is told as SSE events. */
  get answeredEarly(): boolean {
    return this.waiting !== undefined;
  }

  /** Ends the answer with `err`: a JSON error before anything was sent, else the last SSE event (or a cut connection). */
  fail(err: unknown): void {
    this.waiting?.stop();
    sendError(this.res, err, { dialect: this.dialect, requestId: this.requestId, log: this.log, sse: this.sse });
  }

  abstract onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void;
  abstract onData(chunk: Buffer): void;
  abstract onEnd(): void;
  abstract onBroken(err: Error): void;
}
