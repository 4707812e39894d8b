// The shape of an Anthropic Messages request that swapdock relies on, checked before anything is
// forwarded. Only what is really malformed is refused (a 400 naming the field, what it must be and
// what to do); fields and block types swapdock does not know are the translator's business
// (dropped or passed on), never an error: Anthropic adds new ones often, and clients such as
// Claude Code send them as soon as they exist.
import { invalid, shown } from '../request-check.js';

type Json = Record<string, unknown>;

export type ContentBlock = Json & { type: string };

export interface AnthropicMessageParam {
  /** `system` mid-conversation: Claude Code's `mid-conversation-system` beta. */
  role: 'user' | 'assistant' | 'system';
  content: string | ContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema?: Json;
  type?: string;
  strict?: boolean;
}

export interface AnthropicRequest {
  model: string;
  messages: AnthropicMessageParam[];
  system?: string | ContentBlock[];
  max_tokens?: number;
  stop_sequences?: string[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: AnthropicTool[];
  tool_choice?: { type: string; name?: string; disable_parallel_tool_use?: boolean };
  metadata?: unknown;
  thinking?: { type: string; budget_tokens?: number };
  output_config?: { format?: unknown; effort?: unknown };
  output_format?: unknown;
}

export interface CheckOptions {
  /** POST /v1/messages needs max_tokens; count_tokens has none. */
  requireMaxTokens?: boolean;
}

/** Whether the client asked for thinking blocks (then the backend's reasoning is passed on as such). */
export function wantsThinking(req: AnthropicRequest): boolean {
  return req.thinking?.type === 'enabled' || req.thinking?.type === 'adaptive';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isBlock = (value: unknown): value is ContentBlock => isObject(value) && typeof value.type === 'string';


/** Checks the shape swapdock relies on; the backend judges everything else. */
export function checkAnthropicRequest(body: Json, options: CheckOptions = {}): AnthropicRequest {
  if (!Array.isArray(body.messages)) {
    throw invalid('messages: the request needs a "messages" array of {role, content} objects (Anthropic Messages API).', 'invalid_messages');
  }
  for (const [i, m] of (body.messages as unknown[]).entries()) checkMessage(m, i);
  if (options.requireMaxTokens && !(typeof body.max_tokens === 'number' && Number.isInteger(body.max_tokens) && body.max_tokens >= 1)) {
    throw invalid(`max_tokens: required, a whole number of at least 1 (the most tokens the answer may have), e.g. "max_tokens": 1024; got ${shown(body.max_tokens)}.`);
  }
  // The fields the translation reads must have their documented types (the fuzz test found these).
  if (body.system !== undefined && typeof body.system !== 'string' && !(Array.isArray(body.system) && body.system.every(isBlock))) {
    throw invalid('system: must be a string or an array of text blocks ({"type":"text","text":"..."}).');
  }
  if (body.tools !== undefined) checkTools(body.tools);
  if (body.tool_choice !== undefined && !(isObject(body.tool_choice) && typeof body.tool_choice.type === 'string')) {
    throw invalid('tool_choice: must be an object such as {"type":"auto"}, {"type":"any"}, {"type":"none"} or {"type":"tool","name":"..."}.');
  }
  if (isObject(body.tool_choice) && body.tool_choice.type === 'tool' && typeof body.tool_choice.name !== 'string') {
    throw invalid('tool_choice.name: {"type":"tool"} needs the "name" of the tool to call.');
  }
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((x) => typeof x === 'string'))) {
    throw invalid('stop_sequences: must be an array of strings.');
  }
  return body as unknown as AnthropicRequest;
}

function checkMessage(m: unknown, i: number): void {
  const roles = '"user", "assistant" or "system"';
  if (!isObject(m)) throw invalid(`messages.${i}: each message must be an object {role, content}; got ${shown(m)}.`, 'invalid_messages');
  if (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system') {
    throw invalid(`messages.${i}.role: must be ${roles}; got ${shown(m.role)}.`, 'invalid_messages');
  }
  if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
    throw invalid(`messages.${i}.content: must be a string or an array of content blocks; got ${shown(m.content)}.`, 'invalid_messages');
  }
  if (Array.isArray(m.content)) {
    const bad = m.content.findIndex((b) => !isBlock(b));
    if (bad !== -1) throw invalid(`messages.${i}.content.${bad}: each content block must be an object with a "type" string, e.g. {"type":"text","text":"..."}.`, 'invalid_messages');
  }
}

function checkTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw invalid('tools: must be an array of tool objects ({name, description, input_schema}).');
  for (const [i, tool] of tools.entries()) {
    if (!isObject(tool)) throw invalid(`tools.${i}: each tool must be an object ({name, description, input_schema}); got ${shown(tool)}.`);
    if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools.${i}.name: each tool needs a name (a non-empty string).`);
    if (tool.input_schema !== undefined && !isObject(tool.input_schema)) throw invalid(`tools.${i}.input_schema: must be a JSON Schema object, e.g. {"type":"object","properties":{}}.`);
  }
}
