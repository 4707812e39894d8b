// Writes a chat completions answer to a /v1/responses client of a `responses: translate` model,
// chunk by chunk as undici parses it (the sink InferenceProxy.forward() calls): an SSE stream is
// converted event by event as it arrives, a JSON answer converted at the end (into the events
// that build it when the client asked for a stream). While the model loads, a streaming request
// already has its head, response.created and response.in_progress, then a heartbeat. Errors
// before the head are OpenAI-shaped JSON; once a stream is under way, its last event,
// response.failed, carries them — both from the one error renderer.
import { StringDecoder } from 'node:string_decoder';
import type { ServerResponse } from 'node:http';
import type { ModelConfig } from '../config/schema.js';
import { renderError } from '../error-render.js';
import { UpstreamError, UpstreamStreamBrokenError, errorMessage } from '../errors.js';
import type { UpstreamControl } from '../proxy/inference-proxy.js';
import type { ResponseMeter } from '../proxy/response-meter.js';
import { isEventStream } from '../proxy/event-stream.js';
import { UpstreamStatusError } from '../proxy/anthropic/anthropic-errors.js';
import { toResponse, upstreamErrorMessage, type ResponseContext } from '../proxy/responses/translate-response.js';
import { ResponsesStreamTranslator } from '../proxy/responses/translate-stream.js';
import { sendEarlySseHead } from './early-sse-head.js';
import { ResponseSinkBase } from './response-sink-base.js';

const SSE_HEAD = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

export class ResponsesSink extends ResponseSinkBase {
  protected readonly dialect = 'openai';
  private readonly translator: ResponsesStreamTranslator;
  /** A body converted as a whole at the end (JSON answers, errors). */
  private collected: { statusCode: number; chunks: Buffer[] } | undefined;
  /** Set while an upstream SSE stream is translated. */
  private decoder: StringDecoder | undefined;

  constructor(
    res: ServerResponse,
    requestId: string,
    private readonly ctx: ResponseContext,
    meter?: ResponseMeter,
  ) {
    super(res, requestId, meter);
    this.translator = new ResponsesStreamTranslator(ctx);
  }

  /** The request waits for its model: SSE head, response.created and .in_progress at once, then a heartbeat every `heartbeatMs`. */
  beginWaiting(model: ModelConfig, heartbeatMs: number): void {
    if (this.res.headersSent) return;
    this.modelId = model.id;
    this.sse = true;
    const heartbeat = (seconds: number) => `: swapdock: still waiting for '${model.id}' (${seconds} s)\n\n${this.translator.heartbeat()}`;
    this.waiting = sendEarlySseHead(this.res, this.requestId, model.id, heartbeatMs, heartbeat, this.translator.start());
  }

  onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void {
    this.control = control;
    this.modelId = model.id;
    this.waiting?.stop();
    if (statusCode >= 400 || !isEventStream(headers)) return void (this.collected = { statusCode, chunks: [] });
    this.decoder = new StringDecoder('utf8');
    this.openStream();
  }

  onData(chunk: Buffer): void {
    this.meter?.onData(chunk);
    if (this.collected) return void this.collected.chunks.push(chunk);
    const out = this.translator.feed(this.decoder!.write(chunk));
    if (out.length > 0) this.write(out);
  }

  onEnd(): void {
    this.settle();
    if (this.decoder) return void this.res.end(this.translator.feed(this.decoder.end()) + this.translator.end());
    const { statusCode, chunks } = this.collected!;
    const body = Buffer.concat(chunks).toString('utf8');
    if (statusCode >= 400) return this.fail(new UpstreamStatusError(statusCode, this.modelId ?? this.ctx.model, upstreamErrorMessage(body)));
    let completion: Record<string, unknown>;
    try {
      completion = JSON.parse(body) as Record<string, unknown>;
    } catch (err) {
      return this.fail(new UpstreamError(this.modelId!, `its answer is not JSON (${errorMessage(err)}): ${body.slice(0, 200)}`));
    }
    if (this.ctx.request.stream === true) {
      // A stream was asked for (and maybe promised already): the whole answer as the events that build it.
      this.openStream();
      return void this.res.end(this.translator.completion(completion));
    }
    const json = JSON.stringify(toResponse(completion, this.ctx));
    this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-request-id': this.requestId }).end(json);
  }

  onBroken(err: Error): void {
    this.settle();
    this.fail(new UpstreamStreamBrokenError(this.modelId!, err));
  }

  /** Once the stream is under way, a failure is its last event, response.failed; before, a JSON error. */
  override fail(err: unknown): void {
    this.waiting?.stop();
    if (!this.sse || !this.res.headersSent || this.res.writableEnded || this.res.destroyed) return super.fail(err);
    const status = renderError(err).status;
    if (status >= 500) this.log?.warn({ requestId: this.requestId, status, err: errorMessage(err) }, `Request failed: ${errorMessage(err)}`);
    this.res.end(this.translator.failed(err));
  }

  /** Our SSE head, unless it went out while the request waited for its model. */
  private openStream(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { ...SSE_HEAD, 'x-request-id': this.requestId });
    this.sse = true;
  }
}
