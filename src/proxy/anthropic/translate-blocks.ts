// Anthropic content blocks → OpenAI chat message content, for translate-request.ts. Kept: text,
// images, tool_use ↔ tool_calls, tool_result → `role: tool`, documents whose source is text.
// Everything else (thinking of earlier turns, redacted thinking, server tool calls and their
// results, PDFs, search results, block types newer than this code) has no chat completions
// counterpart: dropped and reported through `onDrop`, never an error.
import type { ContentBlock } from './check-request.js';

type Json = Record<string, unknown>;

/** Told the name of each thing dropped in translation (`block thinking`, `field metadata`…). */
export type OnDrop = (what: string) => void;

export interface OpenAIChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Json[] | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** Block properties that only steer Anthropic's own service (prompt caching, citations). */
const SERVICE_PROPERTIES = ['cache_control', 'citations'];

/** A client-given kind, as it can be named in a log line (String() of an object from JSON can throw). */
export function kindOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value;
}

function noteProperties(block: ContentBlock, onDrop: OnDrop): void {
  for (const key of SERVICE_PROPERTIES) if (key in block) onDrop(key);
}

/** A text block's text ('' for any other kind, which is reported as dropped). */
export function blockText(block: ContentBlock, onDrop: OnDrop): string {
  noteProperties(block, onDrop);
  if (block.type === 'text') return String(block.text ?? '');
  onDrop(`block ${block.type}`);
  return '';
}

/**
 * An assistant turn: its text and tool calls. Thinking blocks are dropped rather than sent as
 * `reasoning_content`: OpenAI-compatible servers mostly ignore reasoning in the history, and
 * Anthropic itself leaves earlier turns' thinking out of the context. A turn left with nothing
 * (only thinking) is left out entirely: an empty assistant message breaks some chat templates.
 */
export function assistantMessage(blocks: ContentBlock[], onDrop: OnDrop): OpenAIChatMessage | undefined {
  const texts: string[] = [];
  const toolCalls: NonNullable<OpenAIChatMessage['tool_calls']> = [];
  for (const b of blocks) {
    noteProperties(b, onDrop);
    if (b.type === 'text') texts.push(String(b.text ?? ''));
    else if (b.type === 'tool_use') toolCalls.push({ id: String(b.id), type: 'function', function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) } });
    else onDrop(`block ${b.type}`);
  }
  const text = texts.join('');
  if (!text && toolCalls.length === 0) return blocks.length === 0 ? { role: 'assistant', content: '' } : undefined;
  const message: OpenAIChatMessage = { role: 'assistant', content: text || null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  return message;
}

/** Tool results become `role: tool` messages, first (they answer the previous assistant turn); the rest one user message. */
export function userMessages(blocks: ContentBlock[], onDrop: OnDrop): OpenAIChatMessage[] {
  const out: OpenAIChatMessage[] = [];
  const parts: Json[] = [];
  for (const block of blocks) {
    noteProperties(block, onDrop);
    if (block.type === 'tool_result') {
      const content = toolResultText(block, onDrop);
      out.push({ role: 'tool', tool_call_id: String(block.tool_use_id), content: block.is_error === true ? `Error: ${content}` : content });
    } else if (block.type === 'text') {
      parts.push({ type: 'text', text: String(block.text ?? '') });
    } else if (block.type === 'image') {
      const url = imageUrl(block);
      if (url) parts.push({ type: 'image_url', image_url: { url } });
      else onDrop(`image source ${kindOf((block.source as Json | undefined)?.type)}`);
    } else if (block.type === 'document' && documentText(block) !== undefined) {
      parts.push({ type: 'text', text: documentText(block) });
    } else {
      onDrop(block.type === 'document' ? `document source ${kindOf((block.source as Json | undefined)?.type)}` : `block ${block.type}`);
    }
  }
  if (parts.length > 0) {
    // Text alone goes as a plain string: every OpenAI-compatible server takes that.
    const textOnly = parts.every((p) => p.type === 'text');
    out.push({ role: 'user', content: textOnly ? parts.map((p) => p.text).join('\n') : parts });
  }
  return out;
}

export function toolResultText(block: ContentBlock, onDrop?: OnDrop): string {
  const content = block.content;
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const c of content as Json[]) {
      if (c && c.type === 'text') texts.push(String(c.text ?? ''));
      else onDrop?.(`block ${kindOf(c?.type)} in tool_result`);
    }
    return texts.join('\n');
  }
  return JSON.stringify(content);
}

/** A document given as text (plain text, or content blocks) reads as text, its title first. */
function documentText(block: ContentBlock): string | undefined {
  const source = block.source as { type?: unknown; data?: unknown; content?: unknown } | undefined;
  let text: string | undefined;
  if (source?.type === 'text' && typeof source.data === 'string') text = source.data;
  else if (source?.type === 'content' && typeof source.content === 'string') text = source.content;
  else if (source?.type === 'content' && Array.isArray(source.content)) {
    text = (source.content as Json[]).filter((c) => c?.type === 'text').map((c) => String(c.text ?? '')).join('\n');
  }
  if (text === undefined) return undefined;
  return typeof block.title === 'string' && block.title ? `${block.title}\n${text}` : text;
}

function imageUrl(block: ContentBlock): string | undefined {
  const source = block.source as { type?: string; media_type?: string; data?: string; url?: string } | undefined;
  if (source?.type === 'base64' && source.data) return `data:${source.media_type ?? 'image/png'};base64,${source.data}`;
  if (source?.type === 'url' && source.url) return source.url;
  return undefined;
}
