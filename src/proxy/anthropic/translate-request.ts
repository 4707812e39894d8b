// Anthropic Messages request → OpenAI chat completions request, for backends that speak only
// OpenAI (`api: openai`). Pure: no I/O. What has no OpenAI counterpart (metadata, thinking,
// documents, cache_control) is dropped; see the README's "Anthropic Messages API" section.
import { BadRequestError } from '../../errors.js';

type Json = Record<string, unknown>;

export interface AnthropicRequest {
  model: string;
  messages: AnthropicMessageParam[];
  system?: string | Array<{ type: string; text?: string }>;
  max_tokens?: number;
  stop_sequences?: string[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: Array<{ name: string; description?: string; input_schema?: Json; type?: string }>;
  tool_choice?: { type: 'auto' | 'any' | 'tool' | 'none'; name?: string; disable_parallel_tool_use?: boolean };
  metadata?: unknown;
  thinking?: { type: string; budget_tokens?: number };
}

/** Whether the client asked for thinking blocks (then the backend's reasoning is passed on as such). */
export function wantsThinking(req: AnthropicRequest): boolean {
  return req.thinking?.type === 'enabled' || req.thinking?.type === 'adaptive';
}

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlock[];
}

export type ContentBlock = Json & { type: string };

export interface OpenAIChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Json[] | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape swapdock relies on; the backend judges everything else. */
export function checkAnthropicRequest(body: Json): AnthropicRequest {
  if (!Array.isArray(body.messages)) {
    throw new BadRequestError('messages: the request needs a "messages" array of {role, content} objects (Anthropic Messages API).', 'invalid_messages');
  }
  for (const [i, m] of (body.messages as unknown[]).entries()) {
    const msg = m as Partial<AnthropicMessageParam> | null;
    if (!msg || (msg.role !== 'user' && msg.role !== 'assistant') || (typeof msg.content !== 'string' && !Array.isArray(msg.content))) {
      throw new BadRequestError(`messages.${i}: each message needs a role ("user" or "assistant") and a content (a string or an array of blocks).`, 'invalid_messages');
    }
    if (Array.isArray(msg.content) && !msg.content.every(isObject)) {
      throw new BadRequestError(`messages.${i}.content: each content block must be an object with a "type".`, 'invalid_messages');
    }
  }
  // The fields the translation reads must have their documented types (the fuzz test found these).
  if (body.system !== undefined && typeof body.system !== 'string' && !(Array.isArray(body.system) && body.system.every(isObject))) {
    throw new BadRequestError('system: must be a string or an array of text blocks.', 'invalid_request');
  }
  if (body.tools !== undefined && !(Array.isArray(body.tools) && body.tools.every(isObject))) {
    throw new BadRequestError('tools: must be an array of tool objects ({name, description, input_schema}).', 'invalid_request');
  }
  if (body.tool_choice !== undefined && !isObject(body.tool_choice)) {
    throw new BadRequestError('tool_choice: must be an object such as {"type":"auto"}.', 'invalid_request');
  }
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((x) => typeof x === 'string'))) {
    throw new BadRequestError('stop_sequences: must be an array of strings.', 'invalid_request');
  }
  return body as unknown as AnthropicRequest;
}

/**
 * Anthropic fields that are translated below or have no OpenAI counterpart. Any other field is
 * passed on as it is, so backend-specific parameters (min_p, repetition_penalty…) still work.
 */
const ANTHROPIC_FIELDS = new Set([
  'model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice',
  'metadata', 'thinking', 'service_tier', 'container', 'mcp_servers', 'context_management', 'anthropic_version', 'anthropic_beta', 'betas',
]);

/** The OpenAI chat completions body for an Anthropic request; `model` is the name to send on. */
export function toOpenAIChat(req: AnthropicRequest, model: string): Json {
  const out: Json = { model, messages: toOpenAIMessages(req) };
  for (const [key, value] of Object.entries(req)) if (!ANTHROPIC_FIELDS.has(key)) out[key] = value;
  if (req.max_tokens !== undefined) out.max_tokens = req.max_tokens;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  // Not OpenAI, but llama.cpp, vLLM, tabbyAPI and most local servers accept it.
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const tools = (req.tools ?? []).filter((t) => t.type === undefined || t.type === 'custom');
  if (tools.length > 0 && req.tool_choice?.type !== 'none') {
    out.tools = tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.input_schema ?? { type: 'object', properties: {} } },
    }));
    if (req.tool_choice) {
      const choice = req.tool_choice;
      out.tool_choice = choice.type === 'any' ? 'required' : choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : 'auto';
      if (choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
    }
  }
  return out;
}

export function systemText(system: AnthropicRequest['system']): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('\n');
}

function toOpenAIMessages(req: AnthropicRequest): OpenAIChatMessage[] {
  const out: OpenAIChatMessage[] = [];
  const system = systemText(req.system);
  if (system) out.push({ role: 'system', content: system });
  for (const message of req.messages) {
    if (typeof message.content === 'string') {
      out.push({ role: message.role, content: message.content });
    } else if (message.role === 'assistant') {
      out.push(assistantMessage(message.content));
    } else {
      out.push(...userMessages(message.content));
    }
  }
  return out;
}

function assistantMessage(blocks: ContentBlock[]): OpenAIChatMessage {
  const text = blocks.filter((b) => b.type === 'text').map((b) => String(b.text ?? '')).join('');
  const toolCalls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: String(b.id), type: 'function' as const, function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) } }));
  const message: OpenAIChatMessage = { role: 'assistant', content: text || (toolCalls.length ? null : '') };
  if (toolCalls.length) message.tool_calls = toolCalls;
  return message;
}

/** Tool results become `role: tool` messages, first (they answer the previous assistant turn); the rest one user message. */
function userMessages(blocks: ContentBlock[]): OpenAIChatMessage[] {
  const out: OpenAIChatMessage[] = [];
  const parts: Json[] = [];
  for (const block of blocks) {
    if (block.type === 'tool_result') {
      const content = toolResultText(block);
      out.push({ role: 'tool', tool_call_id: String(block.tool_use_id), content: block.is_error === true ? `Error: ${content}` : content });
    } else if (block.type === 'text') {
      parts.push({ type: 'text', text: String(block.text ?? '') });
    } else if (block.type === 'image') {
      const url = imageUrl(block);
      if (url) parts.push({ type: 'image_url', image_url: { url } });
    }
    // thinking, documents, search results…: no OpenAI counterpart, dropped.
  }
  if (parts.length > 0) {
    // Text alone goes as a plain string: every OpenAI-compatible server takes that.
    const textOnly = parts.every((p) => p.type === 'text');
    out.push({ role: 'user', content: textOnly ? parts.map((p) => p.text).join('\n') : parts });
  }
  return out;
}

function toolResultText(block: ContentBlock): string {
  const content = block.content;
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.filter((c) => c && c.type === 'text').map((c) => String(c.text ?? '')).join('\n');
  }
  return JSON.stringify(content);
}

function imageUrl(block: ContentBlock): string | undefined {
  const source = block.source as { type?: string; media_type?: string; data?: string; url?: string } | undefined;
  if (source?.type === 'base64' && source.data) return `data:${source.media_type ?? 'image/png'};base64,${source.data}`;
  if (source?.type === 'url' && source.url) return source.url;
  return undefined;
}

/** The request's text as the model would read it, for counting tokens. */
export function renderedText(req: AnthropicRequest): string {
  const pieces: string[] = [systemText(req.system)];
  for (const message of req.messages) {
    if (typeof message.content === 'string') pieces.push(message.content);
    else {
      for (const block of message.content) {
        if (block.type === 'text') pieces.push(String(block.text ?? ''));
        else if (block.type === 'tool_use') pieces.push(`${String(block.name)} ${JSON.stringify(block.input ?? {})}`);
        else if (block.type === 'tool_result') pieces.push(toolResultText(block));
      }
    }
  }
  for (const tool of req.tools ?? []) pieces.push(`${tool.name} ${tool.description ?? ''} ${JSON.stringify(tool.input_schema ?? {})}`);
  return pieces.filter(Boolean).join('\n');
}
