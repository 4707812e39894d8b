// Anthropic Messages request → OpenAI chat completions request, for backends that speak only
// OpenAI (`api: openai`). Pure: no I/O; what is dropped is reported through `onDrop` (the route
// logs each name once). The policy, also in the README's "Anthropic Messages API" section:
// - Anthropic-only fields with no OpenAI counterpart (metadata, thinking, context_management…) are
//   dropped; fields unknown to Anthropic (min_p, repetition_penalty…) are passed on as they are,
//   since they are the backend's own parameters.
// - `system` messages anywhere in `messages` are folded, in order, into the one leading OpenAI
//   system message: many chat templates (Llama, Qwen, Mistral…) refuse a system message that is
//   not first, so keeping them in place would break more backends than it helps.
// - Content blocks and tools a chat backend cannot use (thinking, server tools, PDFs…) are dropped.
import type { AnthropicRequest, ContentBlock } from './check-request.js';
import { assistantMessage, blockText, kindOf, toolResultText, userMessages, type OnDrop, type OpenAIChatMessage } from './translate-blocks.js';

export { checkAnthropicRequest, wantsThinking } from './check-request.js';
export type { AnthropicMessageParam, AnthropicRequest, ContentBlock } from './check-request.js';
export type { OnDrop, OpenAIChatMessage } from './translate-blocks.js';

type Json = Record<string, unknown>;

/** Anthropic fields translated below. */
const TRANSLATED_FIELDS = new Set([
  'model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'output_config', 'output_format',
]);

/** Anthropic fields with no OpenAI counterpart: dropped (and reported). */
const DROPPED_FIELDS = new Set([
  'metadata', 'thinking', 'service_tier', 'container', 'mcp_servers', 'context_management', 'anthropic_version', 'anthropic_beta', 'betas', 'inference_geo',
]);

const noop: OnDrop = () => {};

/** The OpenAI chat completions body for an Anthropic request; `model` is the name to send on. */
export function toOpenAIChat(req: AnthropicRequest, model: string, onDrop: OnDrop = noop): Json {
  const out: Json = { model, messages: toOpenAIMessages(req, onDrop) };
  for (const [key, value] of Object.entries(req)) {
    if (DROPPED_FIELDS.has(key)) onDrop(`field ${key}`);
    else if (!TRANSLATED_FIELDS.has(key)) out[key] = value;
  }
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
  const responseFormat = outputFormat(req, onDrop);
  if (responseFormat) out.response_format = responseFormat;
  Object.assign(out, toOpenAITools(req, onDrop));
  return out;
}

/**
 * Custom tools (and any tool with an `input_schema`) become functions. Server tools (web search,
 * code execution…) and schema-less Anthropic-defined tools (bash, text editor) are dropped: a chat
 * backend can neither run them nor knows their schema.
 */
function toOpenAITools(req: AnthropicRequest, onDrop: OnDrop): Json {
  const tools = (req.tools ?? []).filter((t) => {
    const keep = t.type === undefined || t.type === 'custom' || typeof t.input_schema === 'object';
    if (!keep) onDrop(`tool ${kindOf(t.type)}`);
    if (keep && 'cache_control' in t) onDrop('cache_control');
    return keep;
  });
  const choice = req.tool_choice;
  if (tools.length === 0 || choice?.type === 'none') return {};
  const out: Json = {
    tools: tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined && { description: t.description }),
        parameters: t.input_schema ?? { type: 'object', properties: {} },
        ...(typeof t.strict === 'boolean' && { strict: t.strict }),
      },
    })),
  };
  if (choice) {
    if (choice.type === 'any') out.tool_choice = 'required';
    else if (choice.type === 'tool') out.tool_choice = { type: 'function', function: { name: choice.name } };
    else {
      if (choice.type !== 'auto') onDrop(`tool_choice ${choice.type}`);
      out.tool_choice = 'auto';
    }
    if (choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  return out;
}

/** Structured output (`output_config.format`, formerly `output_format`) → `response_format`; effort has no counterpart. */
function outputFormat(req: AnthropicRequest, onDrop: OnDrop): Json | undefined {
  const config = (typeof req.output_config === 'object' && req.output_config !== null ? req.output_config : {}) as Json;
  for (const key of Object.keys(config)) if (key !== 'format') onDrop(`output_config.${key}`);
  const format = (config.format ?? req.output_format) as { type?: unknown; schema?: unknown } | undefined;
  if (format === undefined || format === null) return undefined;
  if (format.type === 'json_schema' && typeof format.schema === 'object' && format.schema !== null) {
    return { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  }
  onDrop(`output format ${kindOf(format.type)}`);
  return undefined;
}

/** The text of a system prompt: a string, or its text blocks (other kinds dropped). */
export function systemText(system: AnthropicRequest['system'], onDrop: OnDrop = noop): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system.map((b: ContentBlock) => blockText(b, onDrop)).filter(Boolean).join('\n');
}

function toOpenAIMessages(req: AnthropicRequest, onDrop: OnDrop): OpenAIChatMessage[] {
  const systems = [systemText(req.system, onDrop)];
  const out: OpenAIChatMessage[] = [];
  for (const message of req.messages) {
    if (message.role === 'system') systems.push(systemText(message.content, onDrop));
    else if (typeof message.content === 'string') push(out, { role: message.role, content: message.content });
    else if (message.role === 'assistant') {
      const assistant = assistantMessage(message.content, onDrop);
      if (assistant) out.push(assistant);
    } else for (const m of userMessages(message.content, onDrop)) push(out, m);
  }
  const system = systems.filter(Boolean).join('\n\n');
  return system ? [{ role: 'system', content: system }, ...out] : out;
}

/**
 * Consecutive user messages become one, as Anthropic itself combines consecutive turns: a folded
 * system message can leave two user turns side by side, and strict chat templates refuse that.
 */
function push(out: OpenAIChatMessage[], message: OpenAIChatMessage): void {
  const previous = out.at(-1);
  if (message.role !== 'user' || previous?.role !== 'user') return void out.push(message);
  const a = previous.content ?? '';
  const b = message.content ?? '';
  if (typeof a === 'string' && typeof b === 'string') previous.content = a && b ? `${a}\n${b}` : a || b;
  else previous.content = [...asParts(a), ...asParts(b)];
}

function asParts(content: string | Json[]): Json[] {
  if (typeof content !== 'string') return content;
  return content ? [{ type: 'text', text: content }] : [];
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
