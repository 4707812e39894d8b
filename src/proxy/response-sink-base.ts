// What every sink writing an upstream response into a Node ServerResponse shares: the upstream's
// flow control, cancelling it when the client leaves, the meter, and writes with backpressure.
import type { ServerResponse } from 'node:http';
import type { ModelConfig } from '../config/schema.js';
import type { UpstreamControl, UpstreamSink } from './inference-proxy.js';
import type { ResponseMeter } from './response-meter.js';

export abstract class ResponseSinkBase implements UpstreamSink {
  /** Set once the model is known (the one that answered, or is being waited for), for the request log. */
  modelId: string | undefined;
  protected control: UpstreamControl | undefined;
  /** The client is being answered with SSE (ours or the backend's). */
  protected sse = false;
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

  /** Backpressure: a slow client pauses the upstream instead of buffering the answer here. */
  protected write(out: Buffer | string): void {
    if (!this.res.write(out)) {
      this.control?.pause();
      this.res.once('drain', this.resume);
    }
  }

  abstract onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void;
  abstract onData(chunk: Buffer): void;
  abstract onEnd(): void;
  abstract onBroken(err: Error): void;
}
