// OpenAI Responses request → OpenAI chat completions request, for models with
// `responses: translate` (their backend speaks only chat completions). Pure: no I/O; what is dropped
// is reported through `onDrop` (the route logs each name once). The policy, also in the README's
// "Codex CLI and other Responses-only clients" section:
// - input items and instructions → messages (translate-input.ts); tools → functions, namespaced
//   and custom tools flattened, hosted tools dropped (translate-tools.ts);
// - Responses-only fields with no chat counterpart (store, include, prompt_cache_key, metadata…)
//   are dropped; fields unknown to the Responses API (min_p, top_k…) are passed on as they are,
//   since they are the backend's own parameters;
// - a stream asks the backend for its usage (`stream_options.include_usage`).
import type { Json, ResponsesRequest } from './check-request.js';
import { toChatMessages } from './translate-input.js';
import { toChatTools, type OnDrop, type ToolNames } from './translate-tools.js';

export { checkResponsesRequest } from './check-request.js';
export type { ResponsesRequest } from './check-request.js';

/** Responses fields translated below. */
const TRANSLATED_FIELDS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'stream', 'max_output_tokens', 'temperature', 'top_p', 'text', 'reasoning',
]);

/** Responses fields with no chat completions counterpart: dropped (and reported). */
const DROPPED_FIELDS = new Set([
  'store', 'include', 'prompt_cache_key', 'prompt_cache_retention', 'client_metadata', 'metadata', 'background', 'service_tier', 'truncation',
  'user', 'safety_identifier', 'prompt', 'max_tool_calls', 'top_logprobs', 'stream_options', 'context_management', 'previous_response_id', 'conversation',
]);

export interface ChatTranslation {
  /** The chat completions body. */
  chat: Json;
  /** Chat function name → the client's tool, to translate calls back. */
  tools: ToolNames;
}

const noop: OnDrop = () => {};

/** The chat completions body for a Responses request; `model` is the name to send on. */
export function toChatCompletion(req: ResponsesRequest, model: string, onDrop: OnDrop = noop): ChatTranslation {
  const chat: Json = { model, messages: toChatMessages(req, onDrop) };
  for (const [key, value] of Object.entries(req)) {
    if (DROPPED_FIELDS.has(key)) {
      if (value !== undefined && value !== null) onDrop(`field ${key}`);
    } else if (!TRANSLATED_FIELDS.has(key)) chat[key] = value;
  }
  if (typeof req.max_output_tokens === 'number') chat.max_tokens = req.max_output_tokens;
  if (typeof req.temperature === 'number') chat.temperature = req.temperature;
  if (typeof req.top_p === 'number') chat.top_p = req.top_p;
  if (req.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  const format = responseFormat(req.text, onDrop);
  if (format) chat.response_format = format;
  if (req.reasoning) {
    const { effort, summary, ...rest } = req.reasoning;
    // OpenAI's chat API, vLLM and others take `reasoning_effort`; summaries have no counterpart.
    if (typeof effort === 'string') chat.reasoning_effort = effort;
    if (summary !== undefined && summary !== null) onDrop('reasoning.summary');
    for (const key of Object.keys(rest)) onDrop(`reasoning.${key}`);
  }
  const { fields, names } = toChatTools(req, onDrop);
  Object.assign(chat, fields);
  return { chat, tools: names };
}

/** `text.format` → `response_format` (json_schema, json_object); plain text needs none. */
function responseFormat(text: ResponsesRequest['text'], onDrop: OnDrop): Json | undefined {
  if (!text || typeof text !== 'object') return undefined;
  if (text.verbosity !== undefined && text.verbosity !== null) onDrop('text.verbosity');
  const format = text.format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema' && typeof format.schema === 'object' && format.schema !== null) {
    const { type: _type, ...schema } = format;
    return { type: 'json_schema', json_schema: { name: 'output', ...schema } };
  }
  onDrop(`text.format ${String(format.type)}`);
  return undefined;
}
