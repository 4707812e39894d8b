// Writes an upstream answer to a /v1/messages client, chunk by chunk as undici parses it (the
// sink InferenceProxy.forward() calls). Two modes: `passthrough` (the backend speaks Anthropic:
// bytes go through as they come) and `translate` (the backend speaks OpenAI: its SSE stream is
// converted event by event as it arrives, its JSON answer converted at the end). Errors, from
// the backend or while waiting for the model, always reach the client in Anthropic shape.
import { StringDecoder } from 'node:string_decoder';
import type { ServerResponse } from 'node:http';
import type { ModelConfig } from '../config/schema.js';
import { UpstreamError, UpstreamStreamBrokenError, errorMessage } from '../errors.js';
import type { UpstreamControl } from '../proxy/inference-proxy.js';
import { ResponseSinkBase } from './response-sink-base.js';
import type { ResponseMeter } from '../proxy/response-meter.js';
import { isEventStream } from '../proxy/event-stream.js';
import { sendEarlySseHead } from './early-sse-head.js';
import { UpstreamStatusError } from '../proxy/anthropic/anthropic-errors.js';
import { toAnthropicMessage, upstreamErrorMessage, type AnthropicMessage } from '../proxy/anthropic/translate-response.js';
import { AnthropicStreamTranslator, sse } from '../proxy/anthropic/translate-stream.js';

export interface AnthropicSinkOptions {
  mode: 'passthrough' | 'translate';
  /** The model name the client asked for, echoed back in translated answers. */
  requestedModel: string;
  stopSequences?: readonly string[];
  /** The client enabled thinking: the backend's reasoning comes back as thinking blocks. */
  thinking?: boolean;
}

const SSE_HEAD = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const PING = sse('ping', { type: 'ping' });

export class AnthropicSink extends ResponseSinkBase {
  protected readonly dialect = 'anthropic';
  /** A body that is converted as a whole at the end (JSON answers, errors). */
  private collected: { statusCode: number; chunks: Buffer[] } | undefined;
  private stream: { translator: AnthropicStreamTranslator; decoder: StringDecoder } | undefined;

  constructor(
    res: ServerResponse,
    requestId: string,
    private readonly options: AnthropicSinkOptions,
    meter?: ResponseMeter,
  ) {
    super(res, requestId, meter);
  }

  /** The request waits for its model: SSE head and a ping at once, then a ping every `heartbeatMs`. */
  beginWaiting(model: ModelConfig, heartbeatMs: number): void {
    if (this.res.headersSent) return;
    this.modelId = model.id;
    this.sse = true;
    this.waiting = sendEarlySseHead(this.res, this.requestId, model.id, heartbeatMs, () => PING, PING);
  }

  /** Our own SSE head went out while the request waited for its model. */
  private get early(): boolean {
    return this.waiting !== undefined;
  }

  onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void {
    this.control = control;
    this.modelId = model.id;
    this.waiting?.stop();
    const upstreamSse = isEventStream(headers);
    if (statusCode >= 400 || !upstreamSse) {
      // Errors become Anthropic errors; a translated JSON answer becomes a Message: both at the end.
      if (statusCode >= 400 || this.options.mode === 'translate' || this.early) this.collected = { statusCode, chunks: [] };
      if (this.collected) return;
    }
    if (this.options.mode === 'translate') {
      this.stream = { translator: new AnthropicStreamTranslator(this.options.requestedModel, this.options.stopSequences, this.options.thinking), decoder: new StringDecoder('utf8') };
      if (!this.early) this.res.writeHead(200, { ...SSE_HEAD, 'x-request-id': this.requestId });
      this.sse = true;
      return;
    }
    if (this.early) return; // passthrough of an SSE answer after our own head
    this.sse = upstreamSse;
    headers['x-request-id'] ??= this.requestId;
    this.res.writeHead(statusCode, headers);
  }

  onData(chunk: Buffer): void {
    this.meter?.onData(chunk);
    if (this.collected) return void this.collected.chunks.push(chunk);
    const out = this.stream ? this.stream.translator.feed(this.stream.decoder.write(chunk)) : chunk;
    if (out.length > 0) this.write(out);
  }

  onEnd(): void {
    this.settle();
    if (this.stream) return void this.res.end(this.stream.translator.feed(this.stream.decoder.end()) + this.stream.translator.end());
    if (!this.collected) return void this.res.end();
    const { statusCode } = this.collected;
    const body = Buffer.concat(this.collected.chunks).toString('utf8');
    if (statusCode >= 400) return this.endWithError(statusCode, body);
    if (this.options.mode === 'passthrough') {
      // Only after an early SSE head: the backend answered a whole Message; send it as the events that build it.
      const message = parseJson(body) as AnthropicMessage | undefined;
      if (message?.type === 'message' && Array.isArray(message.content)) return void this.res.end(messageAsEvents(message));
      return this.fail(new UpstreamError(this.modelId!, `it answered a stream request with neither a stream nor a Message (${body.slice(0, 200)})`));
    }
    let message;
    try {
      message = toAnthropicMessage(JSON.parse(body) as Record<string, unknown>, this.options.requestedModel, this.options.stopSequences, this.options.thinking);
    } catch (err) {
      return this.fail(new UpstreamError(this.modelId!, `its answer is not JSON (${errorMessage(err)}): ${body.slice(0, 200)}`));
    }
    if (this.early) return void this.res.end(messageAsEvents(message));
    const json = JSON.stringify(message);
    this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-request-id': this.requestId }).end(json);
  }

  onBroken(err: Error): void {
    this.settle();
    this.fail(new UpstreamStreamBrokenError(this.modelId!, err));
  }

  /** An upstream error with its status; an Anthropic-shaped body from a native backend passes as it is. */
  private endWithError(statusCode: number, body: string): void {
    const error = new UpstreamStatusError(statusCode, this.modelId ?? this.options.requestedModel, upstreamErrorMessage(body));
    if (this.options.mode !== 'passthrough' || !isAnthropicError(body)) return this.fail(error);
    // The backend's own Anthropic error: its body as the response, or as the last event after an early SSE head.
    if (this.early) return void this.res.end(`event: error\ndata: ${body.replace(/\n/g, '')}\n\n`);
    this.res.writeHead(statusCode, { 'content-type': 'application/json', 'x-request-id': this.requestId }).end(body);
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isAnthropicError(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { type?: unknown; error?: { type?: unknown } };
    return parsed.type === 'error' && typeof parsed.error?.type === 'string';
  } catch {
    return false;
  }
}

/** A whole Message as the stream events that build it (when a stream was promised but JSON came). */
export function messageAsEvents(message: AnthropicMessage): string {
  let out = sse('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 0 } } });
  (message.content as Array<Record<string, unknown> & { type: string }>).forEach((block, index) => {
    const start = (content_block: unknown) => sse('content_block_start', { type: 'content_block_start', index, content_block });
    const delta = (d: unknown) => sse('content_block_delta', { type: 'content_block_delta', index, delta: d });
    if (block.type === 'text') out += start({ type: 'text', text: '' }) + delta({ type: 'text_delta', text: block.text });
    else if (block.type === 'tool_use') out += start({ ...block, input: {} }) + delta({ type: 'input_json_delta', partial_json: JSON.stringify(block.input) });
    else if (block.type === 'thinking') {
      out += start({ type: 'thinking', thinking: '', signature: '' }) + delta({ type: 'thinking_delta', thinking: block.thinking });
      // Always a signature_delta before the stop, as Anthropic sends it (empty when unsigned).
      out += delta({ type: 'signature_delta', signature: typeof block.signature === 'string' ? block.signature : '' });
    } else out += start(block); // other kinds (redacted thinking…) come whole
    out += sse('content_block_stop', { type: 'content_block_stop', index });
  });
  out += sse('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage: message.usage });
  return out + sse('message_stop', { type: 'message_stop' });
}
