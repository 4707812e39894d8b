// Responses tools → chat completions functions, and back. Pure.
// - `function` tools become functions as they are.
// - `custom` tools (free-form text input, e.g. Codex's apply_patch) are flattened into a function
//   taking one string, `input`; a call to it comes back as a `custom_tool_call` with that input.
// - `namespace` tools (a named group of functions, e.g. Codex's multi_agent_v1) are flattened: each
//   member becomes the function `<namespace>__<name>`; a call to it comes back as a function_call
//   with `name` and `namespace` apart again.
// - Tools the backend cannot run (web_search, file_search, code_interpreter, computer use, image
//   generation, MCP servers, local_shell…) are dropped and reported, never an error.
import type { Json, ResponsesRequest, ResponsesTool } from './check-request.js';

/** Told the name of each thing dropped in translation (`tool web_search`, `field store`…). */
export type OnDrop = (what: string) => void;

/** How the client named the tool behind a chat function. */
export interface ClientTool {
  name: string;
  namespace?: string;
  /** A `custom` tool: its call carries `input` text, not JSON arguments. */
  custom: boolean;
}

/** Chat function name → the client's tool, for the tools of one request. */
export type ToolNames = ReadonlyMap<string, ClientTool>;

const NAMESPACE_SEPARATOR = '__';

/** The chat function name of a tool, namespaced or not. */
export function chatName(name: string, namespace?: unknown): string {
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}${NAMESPACE_SEPARATOR}${name}` : name;
}

/** A client-given kind, as it can be named in a log line. */
export function kindOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value;
}

interface ChatFunction {
  type: 'function';
  function: { name: string; description?: string; parameters: Json; strict?: boolean };
}

function customParameters(tool: ResponsesTool): Json {
  const format = (tool.format ?? {}) as { type?: unknown; syntax?: unknown; definition?: unknown };
  const grammar = format.type === 'grammar' && typeof format.definition === 'string' ? ` It must follow this ${kindOf(format.syntax)} grammar:\n${format.definition}` : '';
  return {
    type: 'object',
    properties: { input: { type: 'string', description: `The tool's input, as plain text.${grammar}` } },
    required: ['input'],
    additionalProperties: false,
  };
}

function describe(...parts: unknown[]): string | undefined {
  const text = parts.filter((p): p is string => typeof p === 'string' && p !== '').join('\n\n');
  return text || undefined;
}

/** One function or custom tool (inside a namespace or not) → a chat function, its name recorded. */
function toFunction(tool: ResponsesTool, names: Map<string, ClientTool>, namespace?: ResponsesTool): ChatFunction | undefined {
  const name = String(tool.name);
  const chat = chatName(name, namespace?.name);
  const custom = tool.type === 'custom';
  names.set(chat, { name, custom, ...(namespace && { namespace: String(namespace.name) }) });
  const description = describe(namespace?.description, tool.description);
  const parameters = custom ? customParameters(tool) : ((tool.parameters as Json | undefined) ?? { type: 'object', properties: {} });
  return {
    type: 'function',
    function: { name: chat, ...(description && { description }), parameters, ...(typeof tool.strict === 'boolean' && { strict: tool.strict }) },
  };
}

function functionsOf(tool: ResponsesTool, names: Map<string, ClientTool>, onDrop: OnDrop, namespace?: ResponsesTool): ChatFunction[] {
  if (tool.type === 'function' || tool.type === 'custom') return [toFunction(tool, names, namespace)!];
  if (tool.type === 'namespace' && !namespace) {
    return ((tool.tools as ResponsesTool[] | undefined) ?? []).flatMap((member) => functionsOf(member, names, onDrop, tool));
  }
  onDrop(`tool ${kindOf(tool.type)}`);
  return [];
}

/** `tool_choice` for the chat request; undefined = leave it to the backend (auto). */
function toolChoice(choice: ResponsesRequest['tool_choice'], names: ToolNames, onDrop: OnDrop): unknown {
  if (choice === undefined || choice === null || choice === 'auto') return undefined;
  if (choice === 'required' || choice === 'none') return choice;
  if (typeof choice === 'string') {
    onDrop(`tool_choice ${choice}`);
    return undefined;
  }
  if (choice.type === 'function' || choice.type === 'custom') {
    const name = chatName(String(choice.name), choice.namespace);
    if (names.has(name)) return { type: 'function', function: { name } };
  }
  if (choice.type === 'allowed_tools') {
    onDrop('tool_choice allowed_tools (the restriction; its mode is kept)');
    return choice.mode === 'required' ? 'required' : undefined;
  }
  onDrop(`tool_choice ${kindOf(choice.type)}`);
  return undefined;
}

/** The chat request's `tools`, `tool_choice` and `parallel_tool_calls`, and the names to map calls back. */
export function toChatTools(req: ResponsesRequest, onDrop: OnDrop): { fields: Json; names: ToolNames } {
  const names = new Map<string, ClientTool>();
  const functions = (req.tools ?? []).flatMap((tool) => functionsOf(tool, names, onDrop));
  if (functions.length === 0 || req.tool_choice === 'none') return { fields: {}, names };
  const fields: Json = { tools: functions };
  const choice = toolChoice(req.tool_choice, names, onDrop);
  if (choice !== undefined) fields.tool_choice = choice;
  if (typeof req.parallel_tool_calls === 'boolean') fields.parallel_tool_calls = req.parallel_tool_calls;
  return { fields, names };
}

/** The client's tool behind a chat function name (a name the request did not declare is taken as it is). */
export function clientTool(names: ToolNames, chatFunctionName: string): ClientTool {
  return names.get(chatFunctionName) ?? { name: chatFunctionName, custom: false };
}

/** The input text of a call to a flattened custom tool: `input` of its JSON arguments (or the arguments as they came). */
export function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as { input?: unknown };
    if (typeof parsed?.input === 'string') return parsed.input;
  } catch {
    // not JSON: the text itself
  }
  return args;
}
