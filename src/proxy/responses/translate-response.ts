// OpenAI chat completion (non-streaming JSON) → Responses `response` object, and what the stream
// translator shares with it: the response's echo of the request, output items, ids, usage and
// status. Pure: no I/O.
import { randomBytes } from 'node:crypto';
import type { Json, ResponsesRequest } from './check-request.js';
import { clientTool, customInput, type ToolNames } from './translate-tools.js';

export type OutputItem = Json & { type: string; id: string };

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** What a translated answer needs of its request. */
export interface ResponseContext {
  /** The model name the client asked for, echoed back. */
  model: string;
  request: ResponsesRequest;
  tools: ToolNames;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** The response object before any output: its id, and the request's settings echoed as OpenAI does. */
export function responseShell(ctx: ResponseContext, id: string, createdAt: number): Json {
  const req = ctx.request;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: ctx.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: req.temperature ?? null,
    text: req.text ?? { format: { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_p: req.top_p ?? null,
    truncation: 'disabled',
    usage: null,
    metadata: req.metadata ?? {},
  };
}

/** Chat `usage` → Responses usage; null when the backend sent none. */
export function mapUsage(usage: unknown): ResponseUsage | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown }; completion_tokens_details?: { reasoning_tokens?: unknown } };
  const count = (n: unknown) => (typeof n === 'number' ? n : 0);
  const input = count(u.prompt_tokens);
  const output = count(u.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(u.prompt_tokens_details?.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(u.completion_tokens_details?.reasoning_tokens) },
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : input + output,
  };
}

/** `finish_reason` → the response's status: cut at the token limit or filtered = incomplete. */
export function statusOf(finishReason: unknown): { status: 'completed' | 'incomplete'; incomplete_details: { reason: string } | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

export function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** A message item; in progress (as output_item.added announces it) it has no content yet. */
export function messageItem(id: string, text: string, status = 'completed'): OutputItem {
  return { id, type: 'message', status, role: 'assistant', content: status === 'in_progress' ? [] : [outputText(text)] };
}

/** A reasoning item (the backend's reasoning_content); in progress it has no content yet. */
export function reasoningItem(id: string, text: string, status = 'completed'): OutputItem {
  return { id, type: 'reasoning', summary: [], content: status === 'in_progress' ? [] : [reasoningText(text)] };
}

export function reasoningText(text: string): Json {
  return { type: 'reasoning_text', text };
}

/** A backend's tool call as the client's item: a function_call (namespace apart again) or a custom_tool_call. */
export function callItem(tools: ToolNames, id: string, callId: string, chatFunctionName: string, args: string, status = 'completed'): OutputItem {
  const tool = clientTool(tools, chatFunctionName);
  if (tool.custom) return { id, type: 'custom_tool_call', status, call_id: callId, name: tool.name, input: status === 'in_progress' ? '' : customInput(args) };
  // A call without arguments (a tool without parameters, from some servers) has the empty object.
  const argumentsText = status === 'completed' && args === '' ? '{}' : args;
  return { id, type: 'function_call', status, arguments: argumentsText, call_id: callId, name: tool.name, ...(tool.namespace && { namespace: tool.namespace }) };
}

interface ChatMessageOut {
  content?: unknown;
  reasoning_content?: unknown;
  reasoning?: unknown;
  tool_calls?: Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }>;
}

/** What one chat choice holds, in the order the items come: reasoning, text, tool calls. */
export function choiceContent(message: ChatMessageOut): { reasoning: string; text: string; calls: Array<{ id: string; name: string; args: string }> } {
  const reasoning = message.reasoning_content ?? message.reasoning;
  let text = '';
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) text = message.content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
  const calls = (message.tool_calls ?? []).map((call) => ({
    id: typeof call.id === 'string' && call.id ? call.id : newId('call'),
    name: typeof call.function?.name === 'string' ? call.function.name : '',
    args: typeof call.function?.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function?.arguments ?? {}),
  }));
  return { reasoning: typeof reasoning === 'string' ? reasoning : '', text, calls };
}

/** A whole chat completion → the response object. */
export function toResponse(completion: Json, ctx: ResponseContext): Json {
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const { reasoning, text, calls } = choiceContent((choice.message ?? {}) as ChatMessageOut);
  const output: OutputItem[] = [];
  if (reasoning) output.push(reasoningItem(newId('rs'), reasoning));
  if (text || calls.length === 0) output.push(messageItem(newId('msg'), text));
  for (const call of calls) output.push(callItem(ctx.tools, newId('fc'), call.id, call.name, call.args));
  const createdAt = typeof completion.created === 'number' ? completion.created : Math.floor(Date.now() / 1000);
  return { ...responseShell(ctx, newId('resp'), createdAt), ...statusOf(choice.finish_reason), output, usage: mapUsage(completion.usage) };
}

/** The message of an upstream error body in OpenAI shape (or any JSON or text). */
export { upstreamErrorMessage } from '../anthropic/translate-response.js';
