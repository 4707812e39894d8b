// Responses `instructions` and `input` items → chat completions messages. Pure.
// - `instructions`, and `system`/`developer` messages wherever they are, are folded in order into
//   the one leading system message: many chat templates refuse a system message that is not first.
// - user and assistant messages keep their text (input_text, output_text, refusal) and images
//   (input_image with a URL → image_url); consecutive user messages are joined.
// - function_call / custom_tool_call items become tool_calls of an assistant message (the one
//   just before when there is one, as a chat backend expects calls and text in one turn);
//   function_call_output / custom_tool_call_output items become `role: tool` messages.
// - Everything else has no chat counterpart and is dropped and reported: reasoning items,
//   hosted tool calls (web_search_call, local_shell_call…), item references, files, audio.
import type { InputItem, Json, ResponsesRequest } from './check-request.js';
import { chatName, kindOf, type OnDrop } from './translate-tools.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Json[] | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

type Part = Json & { type: string };

/** The text of message content (string, or parts: input_text, output_text, refusal). */
function textOf(content: unknown, onDrop: OnDrop): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content as Part[]) {
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') texts.push(String(part.text ?? ''));
    else if (part.type === 'refusal') texts.push(String(part.refusal ?? ''));
    else onDrop(`content ${kindOf(part.type)}`);
  }
  return texts.join('');
}

/** A user message's content: a plain string for text only (every server takes that), else chat parts. */
function userContent(content: unknown, onDrop: OnDrop): string | Json[] {
  if (typeof content === 'string') return content;
  const parts: Json[] = [];
  for (const part of content as Part[]) {
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') parts.push({ type: 'text', text: String(part.text ?? '') });
    else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      parts.push({ type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' && part.detail !== 'auto' && { detail: part.detail }) } });
    } else onDrop(part.type === 'input_image' ? 'input_image by file_id' : `content ${kindOf(part.type)}`);
  }
  return parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts;
}

/** A tool's output: a string, or content parts whose text is kept. */
function outputText(output: unknown, onDrop: OnDrop): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return textOf(output, onDrop);
  return output === undefined || output === null ? '' : JSON.stringify(output);
}

function asParts(content: string | Json[] | null): Json[] {
  if (content === null) return [];
  if (typeof content !== 'string') return content;
  return content ? [{ type: 'text', text: content }] : [];
}

/** Consecutive user messages become one: strict chat templates refuse two user turns side by side. */
function pushUser(out: ChatMessage[], content: string | Json[]): void {
  const previous = out.at(-1);
  if (previous?.role !== 'user') return void out.push({ role: 'user', content });
  const a = previous.content ?? '';
  if (typeof a === 'string' && typeof content === 'string') previous.content = a && content ? `${a}\n${content}` : a || content;
  else previous.content = [...asParts(a), ...asParts(content)];
}

/** A call joins the assistant turn just before it (its text, or earlier calls); otherwise it opens one. */
function pushCall(out: ChatMessage[], id: string, name: string, args: string): void {
  const call = { id, type: 'function' as const, function: { name, arguments: args } };
  const previous = out.at(-1);
  if (previous?.role === 'assistant') (previous.tool_calls ??= []).push(call);
  else out.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function translateItem(item: InputItem, out: ChatMessage[], systems: string[], onDrop: OnDrop): void {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message': {
      if (item.role === 'system' || item.role === 'developer') systems.push(textOf(item.content, onDrop));
      else if (item.role === 'assistant') {
        const text = textOf(item.content, onDrop);
        if (text) out.push({ role: 'assistant', content: text });
      } else pushUser(out, userContent(item.content, onDrop));
      return;
    }
    case 'function_call':
      return pushCall(out, String(item.call_id), chatName(String(item.name), item.namespace), typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}));
    case 'custom_tool_call':
      return pushCall(out, String(item.call_id), chatName(String(item.name), item.namespace), JSON.stringify({ input: String(item.input ?? '') }));
    case 'function_call_output':
    case 'custom_tool_call_output':
      out.push({ role: 'tool', tool_call_id: String(item.call_id), content: outputText(item.output, onDrop) });
      return;
    default:
      onDrop(`item ${kindOf(type)}`);
  }
}

/** The chat messages of a Responses request, the system message (if any) first. */
export function toChatMessages(req: Pick<ResponsesRequest, 'instructions' | 'input'>, onDrop: OnDrop): ChatMessage[] {
  const systems: string[] = typeof req.instructions === 'string' ? [req.instructions] : [];
  const out: ChatMessage[] = [];
  if (typeof req.input === 'string') pushUser(out, req.input);
  else for (const item of req.input) translateItem(item, out, systems, onDrop);
  const system = systems.filter(Boolean).join('\n\n');
  return system ? [{ role: 'system', content: system }, ...out] : out;
}
