// OpenAI chat completion SSE stream → Anthropic Messages SSE stream, chunk by chunk: feed() takes
// upstream text as it arrives and returns the Anthropic events to write now (nothing is held back
// but an incomplete SSE line). Events: message_start, content_block_start / _delta / _stop (text
// as text_delta, tool calls as tool_use blocks with input_json_delta), message_delta (stop_reason,
// usage), message_stop. Usage comes from the upstream's final usage chunk
// (stream_options.include_usage, which the request translator asks for). When the client enabled
// thinking, the backend's reasoning (`reasoning_content`, or `reasoning`) comes as thinking blocks:
// thinking_delta events, then an empty signature_delta (unsigned) before content_block_stop.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { renderErrorEvent } from '../../error-render.js';
import { UpstreamStreamBrokenError } from '../../errors.js';
import { mapStopReason, mapUsage, messageId, toolUseId, upstreamErrorMessage, type StopReason } from './translate-response.js';

type Json = Record<string, unknown>;

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class AnthropicStreamTranslator {
  private readonly parser: EventSourceParser;
  private out = '';
  private started = false;
  private finished = false;
  /** The open content block: its index, and for a tool call the upstream tool index. */
  private block: { index: number; kind: 'thinking' | 'text' | 'tool'; toolIndex?: number } | undefined;
  private nextIndex = 0;
  private finishReason: unknown;
  private matchedStop: unknown;
  private usage: Json | undefined;
  private id: string | undefined;

  constructor(
    /** The model name the client asked for, echoed in message_start. */
    private readonly model: string,
    private readonly stopSequences: readonly string[] = [],
    /** The client enabled thinking: pass the backend's reasoning on as thinking blocks. */
    private readonly thinking = false,
  ) {
    this.parser = createParser({ onEvent: (event) => this.onEvent(event.data) });
  }

  /** Upstream SSE text in (any split), Anthropic SSE text out (may be ''). */
  feed(text: string): string {
    this.parser.feed(text);
    const out = this.out;
    this.out = '';
    return out;
  }

  /** The upstream ended: closes the message if [DONE] did not already. */
  end(): string {
    if (!this.finished) this.finish();
    const out = this.out;
    this.out = '';
    return out;
  }

  get done(): boolean {
    return this.finished;
  }

  private onEvent(data: string): void {
    if (this.finished) return;
    if (data === '[DONE]') return this.finish();
    let chunk: Json;
    try {
      chunk = JSON.parse(data) as Json;
    } catch {
      return; // not JSON: nothing to translate
    }
    if (chunk.error) {
      this.finished = true;
      this.out += renderErrorEvent(new UpstreamStreamBrokenError(this.model, upstreamErrorMessage(data)), 'anthropic');
      return;
    }
    this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage as Json;
    const choice = (chunk.choices as Json[] | undefined)?.[0];
    if (!choice) return;
    const delta = (choice.delta ?? {}) as { content?: unknown; reasoning_content?: unknown; reasoning?: unknown; tool_calls?: ToolCallDelta[] };
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (this.thinking && typeof reasoning === 'string' && reasoning !== '') this.reasoning(reasoning);
    if (typeof delta.content === 'string' && delta.content !== '') this.text(delta.content);
    for (const call of delta.tool_calls ?? []) this.toolCall(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    if (choice.stop_reason !== undefined && choice.stop_reason !== null) this.matchedStop = choice.stop_reason;
  }

  private start(chunk?: Json): void {
    if (this.started) return;
    this.started = true;
    this.id = messageId(chunk?.id);
    this.out += sse('message_start', {
      type: 'message_start',
      message: { id: this.id, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
  }

  private reasoning(thinking: string): void {
    if (this.block?.kind !== 'thinking') this.open({ type: 'thinking', thinking: '', signature: '' }, 'thinking');
    this.out += sse('content_block_delta', { type: 'content_block_delta', index: this.block!.index, delta: { type: 'thinking_delta', thinking } });
  }

  private text(text: string): void {
    if (this.block?.kind !== 'text') this.open({ type: 'text', text: '' }, 'text');
    this.out += sse('content_block_delta', { type: 'content_block_delta', index: this.block!.index, delta: { type: 'text_delta', text } });
  }

  private toolCall(call: ToolCallDelta): void {
    const toolIndex = call.index ?? 0;
    const isNew = this.block?.kind !== 'tool' || this.block.toolIndex !== toolIndex;
    if (isNew) this.open({ type: 'tool_use', id: call.id || toolUseId(), name: call.function?.name ?? '', input: {} }, 'tool', toolIndex);
    const args = call.function?.arguments;
    if (args) this.out += sse('content_block_delta', { type: 'content_block_delta', index: this.block!.index, delta: { type: 'input_json_delta', partial_json: args } });
  }

  private open(contentBlock: Json, kind: 'thinking' | 'text' | 'tool', toolIndex?: number): void {
    this.close();
    this.block = { index: this.nextIndex++, kind, toolIndex };
    this.out += sse('content_block_start', { type: 'content_block_start', index: this.block.index, content_block: contentBlock });
  }

  private close(): void {
    if (!this.block) return;
    // Anthropic ends every thinking block with a signature_delta, and clients (the SDKs' stream
    // accumulators, Claude Code) expect one. A local model's reasoning has no signature: empty.
    if (this.block.kind === 'thinking') this.out += sse('content_block_delta', { type: 'content_block_delta', index: this.block.index, delta: { type: 'signature_delta', signature: '' } });
    this.out += sse('content_block_stop', { type: 'content_block_stop', index: this.block.index });
    this.block = undefined;
  }

  private finish(): void {
    this.start();
    this.close();
    this.finished = true;
    const stop: { stop_reason: StopReason; stop_sequence: string | null } = mapStopReason(this.finishReason, this.matchedStop, this.stopSequences);
    const usage = mapUsage(this.usage);
    this.out += sse('message_delta', { type: 'message_delta', delta: stop, usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens } });
    this.out += sse('message_stop', { type: 'message_stop' });
  }
}
