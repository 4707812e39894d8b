// The shape of an OpenAI Responses API request (POST /v1/responses) that the translation relies
// on, checked before anything is forwarded. Only what is really malformed is refused (a 400 naming
// the field, what it must be and what to do), and what a stateless translation cannot honour
// (`previous_response_id`, `conversation`). Item types, tool types and fields swapdock does not know
// are the translator's business (dropped or passed on), never an error: clients such as Codex send
// new ones (web_search, namespaced tools) as soon as they exist.
import { invalid, shown } from '../request-check.js';

export type Json = Record<string, unknown>;

/** One element of `input`: a message (`type` may be left out), a function call, its output… */
export type InputItem = Json & { type?: string };

/** A tool as the client declares it: `function`, `custom`, `namespace` (a group of those), hosted tools. */
export type ResponsesTool = Json & { type: string; name?: string };

export interface ResponsesRequest {
  model: string;
  input: string | InputItem[];
  instructions?: string | null;
  tools?: ResponsesTool[];
  tool_choice?: string | (Json & { type: string });
  parallel_tool_calls?: boolean;
  stream?: boolean;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: Json & { type?: string }; verbosity?: unknown } | null;
  reasoning?: { effort?: unknown; summary?: unknown } | null;
  metadata?: unknown;
}

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


/** Checks the shape the translation relies on; the backend judges everything else. */
export function checkResponsesRequest(body: Json): ResponsesRequest {
  for (const key of ['previous_response_id', 'conversation'] as const) {
    if (body[key] !== undefined && body[key] !== null) {
      throw invalid(
        `${key}: swapdock translates /v1/responses to chat completions for this model and keeps no responses, so it cannot continue a stored one. Send the whole conversation in "input" (with "store": false), or set the model's \`responses: passthrough\` if its backend has its own Responses API.`,
        'unsupported_parameter',
      );
    }
  }
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    throw invalid(`input: the request needs an "input", a string or an array of input items such as {"role":"user","content":"Hi"}; got ${shown(body.input)}.`, 'invalid_input');
  }
  if (Array.isArray(body.input)) for (const [i, item] of (body.input as unknown[]).entries()) checkItem(item, i);
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') {
    throw invalid(`instructions: must be a string (the system prompt); got ${shown(body.instructions)}.`);
  }
  if (body.tools !== undefined && body.tools !== null) checkTools(body.tools, 'tools');
  const choice = body.tool_choice;
  if (choice !== undefined && choice !== null && typeof choice !== 'string' && !(isObject(choice) && typeof choice.type === 'string')) {
    throw invalid('tool_choice: must be "auto", "none", "required" or an object such as {"type":"function","name":"..."}.');
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid(`stream: must be true or false; got ${shown(body.stream)}.`);
  return body as unknown as ResponsesRequest;
}

function checkItem(item: unknown, i: number): void {
  const at = `input.${i}`;
  if (!isObject(item)) throw invalid(`${at}: each input item must be an object, e.g. {"role":"user","content":"Hi"}; got ${shown(item)}.`, 'invalid_input');
  if (item.type !== undefined && typeof item.type !== 'string') throw invalid(`${at}.type: must be a string such as "message" or "function_call_output".`, 'invalid_input');
  const type = item.type ?? 'message';
  if (type === 'message') {
    if (!MESSAGE_ROLES.includes(item.role as string)) throw invalid(`${at}.role: must be "user", "assistant", "system" or "developer"; got ${shown(item.role)}.`, 'invalid_input');
    if (typeof item.content !== 'string' && !Array.isArray(item.content)) {
      throw invalid(`${at}.content: must be a string or an array of content parts such as {"type":"input_text","text":"..."}; got ${shown(item.content)}.`, 'invalid_input');
    }
    if (Array.isArray(item.content)) {
      const bad = item.content.findIndex((part) => !isObject(part) || typeof part.type !== 'string');
      if (bad !== -1) throw invalid(`${at}.content.${bad}: each content part must be an object with a "type" string, e.g. {"type":"input_text","text":"..."}.`, 'invalid_input');
    }
  } else if (type === 'function_call' || type === 'custom_tool_call') {
    if (typeof item.call_id !== 'string' || typeof item.name !== 'string') throw invalid(`${at}: a ${type} needs "call_id" and "name" strings.`, 'invalid_input');
  } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
    if (typeof item.call_id !== 'string') throw invalid(`${at}.call_id: a ${type} needs the "call_id" of the call it answers.`, 'invalid_input');
  }
}

function checkTools(tools: unknown, at: string): void {
  if (!Array.isArray(tools)) throw invalid(`${at}: must be an array of tools such as {"type":"function","name":"...","parameters":{...}}.`);
  for (const [i, tool] of tools.entries()) {
    if (!isObject(tool) || typeof tool.type !== 'string') throw invalid(`${at}.${i}: each tool must be an object with a "type" string; got ${shown(tool)}.`);
    if ((tool.type === 'function' || tool.type === 'custom' || tool.type === 'namespace') && (typeof tool.name !== 'string' || tool.name === '')) {
      throw invalid(`${at}.${i}.name: a ${tool.type} tool needs a name (a non-empty string).`);
    }
    if (tool.type === 'function' && tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) {
      throw invalid(`${at}.${i}.parameters: must be a JSON Schema object, e.g. {"type":"object","properties":{}}.`);
    }
    if (tool.type === 'namespace') checkTools(tool.tools ?? [], `${at}.${i}.tools`);
  }
}
