// OpenAI chat completion (non-streaming JSON) → Anthropic Message, and the mappings the stream
// translator shares: stop reasons, usage, ids. Pure: no I/O.
import { randomBytes } from 'node:crypto';

type Json = Record<string, unknown>;

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
}

export type AnthropicContentBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export function messageId(upstreamId: unknown): string {
  if (typeof upstreamId === 'string' && upstreamId) return upstreamId.startsWith('msg_') ? upstreamId : `msg_${upstreamId}`;
  return `msg_${randomBytes(12).toString('hex')}`;
}

/**
 * OpenAI `finish_reason` → Anthropic `stop_reason`. vLLM (and some others) also say which stop
 * string matched (`stop_reason` on the choice): that makes it a stop_sequence.
 */
export function mapStopReason(finishReason: unknown, matched: unknown, stopSequences: readonly string[] = []): { stop_reason: StopReason; stop_sequence: string | null } {
  if (typeof matched === 'string' && stopSequences.includes(matched)) return { stop_reason: 'stop_sequence', stop_sequence: matched };
  switch (finishReason) {
    case 'length':
      return { stop_reason: 'max_tokens', stop_sequence: null };
    case 'tool_calls':
    case 'function_call':
      return { stop_reason: 'tool_use', stop_sequence: null };
    case 'content_filter':
      return { stop_reason: 'refusal', stop_sequence: null };
    default:
      return { stop_reason: 'end_turn', stop_sequence: null };
  }
}

export function mapUsage(usage: unknown): AnthropicUsage {
  const u = (usage ?? {}) as { prompt_tokens?: unknown; completion_tokens?: unknown };
  return {
    input_tokens: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0,
    output_tokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0,
  };
}

/** Tool arguments arrive as a JSON string; a broken one is kept visible rather than lost. */
export function parseToolInput(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return typeof args === 'object' && args !== null ? args : {};
  try {
    return JSON.parse(args);
  } catch {
    return { _raw_arguments: args };
  }
}

/**
 * `model` is the name the client asked for: Anthropic clients expect it back. With `thinking`
 * (the client enabled it), the backend's reasoning comes first as an (unsigned) thinking block.
 */
export function toAnthropicMessage(completion: Json, model: string, stopSequences: readonly string[] = [], thinking = false): AnthropicMessage {
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const message = (choice.message ?? {}) as { content?: unknown; reasoning_content?: unknown; reasoning?: unknown; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }> };
  const content: AnthropicContentBlock[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (thinking && typeof reasoning === 'string' && reasoning !== '') content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  else if (Array.isArray(message.content)) {
    const text = message.content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
    if (text) content.push({ type: 'text', text });
  }
  for (const call of message.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id || toolUseId(), name: call.function?.name ?? '', input: parseToolInput(call.function?.arguments) });
  }
  const stop = mapStopReason(choice.finish_reason, choice.stop_reason, stopSequences);
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    ...stop,
    usage: mapUsage(completion.usage),
  };
}

export function toolUseId(): string {
  return `toolu_${randomBytes(12).toString('hex')}`;
}

/** The message of an upstream error body in OpenAI shape (or any JSON or text). */
export function upstreamErrorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.detail === 'string') return parsed.detail;
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 1000) || '(empty body)';
}
