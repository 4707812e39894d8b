// OpenAI chat completion SSE stream → Responses API SSE stream, chunk by chunk: feed() takes
// upstream text as it arrives and returns the events to write now (nothing is held back but an
// incomplete SSE line). The sequence, each event numbered (`sequence_number`):
//   response.created, response.in_progress
//   per text or reasoning item: response.output_item.added, response.content_part.added,
//     response.output_text.delta | response.reasoning_text.delta…, response.output_text.done |
//     response.reasoning_text.done, response.content_part.done, response.output_item.done
//   per tool call: response.output_item.added (function_call), response.function_call_arguments
//     .delta… (as the arguments stream), response.function_call_arguments.done,
//     response.output_item.done — a custom tool's input comes whole at the end
//     (response.custom_tool_call_input.delta/.done), being JSON-wrapped on the chat side
//   response.completed (or response.incomplete when cut at the token limit) with the whole
//     output and the usage of the backend's final usage chunk (stream_options.include_usage).
// A failure ends the stream with response.failed carrying the error, as Codex and the SDKs read it.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { renderError } from '../../error-render.js';
import { UpstreamStreamBrokenError } from '../../errors.js';
import type { Json } from './check-request.js';
import { clientTool } from './translate-tools.js';
import {
  callItem, choiceContent, mapUsage, messageItem, newId, outputText, reasoningItem, reasoningText, responseShell, statusOf, upstreamErrorMessage,
  type OutputItem, type ResponseContext,
} from './translate-response.js';

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** The open text or reasoning item. */
interface OpenPart {
  kind: 'text' | 'reasoning';
  index: number;
  id: string;
  text: string;
}

/** An open tool call item. */
interface OpenCall {
  index: number;
  id: string;
  callId: string;
  name: string;
  args: string;
}

/** An error as the Responses API reports it in `response.error`, rendered by the one error renderer. */
function responseError(err: unknown): { code: string; message: string } {
  const { error } = JSON.parse(renderError(err, 'openai').body) as { error: { message: string; code: string } };
  return { code: error.code, message: error.message };
}

export class ResponsesStreamTranslator {
  private readonly parser: EventSourceParser;
  private readonly shell: Json;
  private out = '';
  private sequence = 0;
  private started = false;
  private finished = false;
  /** Every output item so far, by output_index (open ones as announced, closed ones whole). */
  private readonly items: OutputItem[] = [];
  private part: OpenPart | undefined;
  /** Open tool calls by the backend's tool index. */
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: unknown;
  private usage: unknown;

  constructor(private readonly ctx: ResponseContext) {
    this.shell = responseShell(ctx, newId('resp'), Math.floor(Date.now() / 1000));
    this.parser = createParser({ onEvent: (event) => this.onEvent(event.data) });
  }

  /** response.created and response.in_progress (once): a stream's first events. */
  start(): string {
    this.begin();
    return this.take();
  }

  /** While the model loads: response.in_progress again, an event that keeps clients' idle timers from firing. */
  heartbeat(): string {
    if (this.finished) return '';
    this.begin();
    this.emit('response.in_progress', { response: this.snapshot('in_progress') });
    return this.take();
  }

  /** Upstream SSE text in (any split), Responses SSE text out (may be ''). */
  feed(text: string): string {
    this.parser.feed(text);
    return this.take();
  }

  /** The upstream ended: completes the response if [DONE] did not already. */
  end(): string {
    if (!this.finished) this.finish();
    return this.take();
  }

  /** A whole chat completion (the backend answered a stream request with JSON) as the events that build it. */
  completion(completion: Json): string {
    const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
    const { reasoning, text, calls } = choiceContent((choice.message ?? {}) as Json);
    this.begin();
    if (reasoning) this.delta('reasoning', reasoning);
    if (text) this.delta('text', text);
    calls.forEach((call, index) => this.toolCall({ index, id: call.id, function: { name: call.name, arguments: call.args } }));
    this.finishReason = choice.finish_reason;
    this.usage = completion.usage;
    return this.end();
  }

  /** The answer failed: response.failed with the error, the stream's last event. */
  failed(err: unknown): string {
    this.fail(err);
    return this.take();
  }

  get done(): boolean {
    return this.finished;
  }

  private take(): string {
    const out = this.out;
    this.out = '';
    return out;
  }

  private emit(type: string, fields: Json): void {
    this.out += `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.sequence++ })}\n\n`;
  }

  private snapshot(status: string): Json {
    return { ...this.shell, status, output: this.items };
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
    if (chunk.error) return this.fail(new UpstreamStreamBrokenError(this.ctx.model, upstreamErrorMessage(data)));
    this.begin();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = (chunk.choices as Json[] | undefined)?.[0];
    if (!choice) return;
    const delta = (choice.delta ?? {}) as { content?: unknown; reasoning_content?: unknown; reasoning?: unknown; tool_calls?: ToolCallDelta[] };
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') this.delta('reasoning', reasoning);
    if (typeof delta.content === 'string' && delta.content !== '') this.delta('text', delta.content);
    for (const call of delta.tool_calls ?? []) this.toolCall(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.emit('response.created', { response: this.snapshot('in_progress') });
    this.emit('response.in_progress', { response: this.snapshot('in_progress') });
  }

  private delta(kind: OpenPart['kind'], text: string): void {
    if (this.part?.kind !== kind) {
      this.closeAll();
      this.openPart(kind);
    }
    const part = this.part!;
    part.text += text;
    const at = { item_id: part.id, output_index: part.index, content_index: 0 };
    if (kind === 'text') this.emit('response.output_text.delta', { ...at, delta: text, logprobs: [] });
    else this.emit('response.reasoning_text.delta', { ...at, delta: text });
  }

  private openPart(kind: OpenPart['kind']): void {
    const id = newId(kind === 'text' ? 'msg' : 'rs');
    const index = this.items.length;
    const item = kind === 'text' ? messageItem(id, '', 'in_progress') : reasoningItem(id, '', 'in_progress');
    this.items.push(item);
    this.emit('response.output_item.added', { output_index: index, item });
    this.emit('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: kind === 'text' ? outputText('') : reasoningText('') });
    this.part = { kind, index, id, text: '' };
  }

  private closePart(): void {
    const part = this.part;
    if (!part) return;
    this.part = undefined;
    const at = { item_id: part.id, output_index: part.index, content_index: 0 };
    if (part.kind === 'text') this.emit('response.output_text.done', { ...at, text: part.text, logprobs: [] });
    else this.emit('response.reasoning_text.done', { ...at, text: part.text });
    this.emit('response.content_part.done', { ...at, part: part.kind === 'text' ? outputText(part.text) : reasoningText(part.text) });
    const item = part.kind === 'text' ? messageItem(part.id, part.text) : reasoningItem(part.id, part.text);
    this.items[part.index] = item;
    this.emit('response.output_item.done', { output_index: part.index, item });
  }

  private toolCall(call: ToolCallDelta): void {
    const toolIndex = call.index ?? 0;
    let open = this.calls.get(toolIndex);
    // Some servers number every call 0 and tell them apart only by their id.
    if (open && call.id && call.id !== open.callId) {
      this.closeCall(open);
      open = undefined;
    }
    if (!open) {
      this.closePart();
      open = { index: this.items.length, id: newId('fc'), callId: call.id || newId('call'), name: call.function?.name ?? '', args: '' };
      this.calls.set(toolIndex, open);
      const item = callItem(this.ctx.tools, open.id, open.callId, open.name, '', 'in_progress');
      this.items.push(item);
      this.emit('response.output_item.added', { output_index: open.index, item });
    } else if (call.function?.name && !open.name) open.name = call.function.name;
    const args = call.function?.arguments;
    if (!args) return;
    open.args += args;
    if (!clientTool(this.ctx.tools, open.name).custom) this.emit('response.function_call_arguments.delta', { item_id: open.id, output_index: open.index, delta: args });
  }

  private closeCall(open: OpenCall): void {
    for (const [key, value] of this.calls) if (value === open) this.calls.delete(key);
    const item = callItem(this.ctx.tools, open.id, open.callId, open.name, open.args);
    const at = { item_id: open.id, output_index: open.index };
    if (item.type === 'custom_tool_call') {
      this.emit('response.custom_tool_call_input.delta', { ...at, delta: item.input });
      this.emit('response.custom_tool_call_input.done', { ...at, input: item.input });
    } else this.emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
    this.items[open.index] = item;
    this.emit('response.output_item.done', { output_index: open.index, item });
  }

  private closeAll(): void {
    this.closePart();
    for (const open of [...this.calls.values()].sort((a, b) => a.index - b.index)) this.closeCall(open);
  }

  private finish(): void {
    this.begin();
    if (this.items.length === 0) this.openPart('text'); // an empty answer is still a message
    this.closeAll();
    this.finished = true;
    const { status, incomplete_details } = statusOf(this.finishReason);
    const response = { ...this.snapshot(status), incomplete_details, usage: mapUsage(this.usage) };
    this.emit(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.begin();
    this.finished = true;
    // What the open items hold so far, marked incomplete.
    const part = this.part;
    if (part) this.items[part.index] = part.kind === 'text' ? messageItem(part.id, part.text, 'incomplete') : reasoningItem(part.id, part.text, 'incomplete');
    for (const open of this.calls.values()) this.items[open.index] = callItem(this.ctx.tools, open.id, open.callId, open.name, open.args, 'incomplete');
    this.emit('response.failed', { response: { ...this.snapshot('failed'), error: responseError(err) } });
  }
}
