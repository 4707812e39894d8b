// Measures one proxied response as it passes through NodeResponseSink: when its first body
// byte arrived (time to first token), and the token counts of an OpenAI `usage`
// {prompt_tokens, completion_tokens} or Anthropic `usage` {input_tokens, output_tokens} object.
// Cheap by design: a chunk is only looked at when it contains the bytes `"usage"`, and then
// only the usage object itself is parsed, never the whole body or stream.

export interface TokenUsage {
  tokensIn?: number;
  tokensOut?: number;
}

const USAGE_KEY = '"usage"';
const USAGE_KEY_BYTES = Buffer.from(USAGE_KEY);
/** A usage object split across chunks is completed from the next ones, up to this size. */
const MAX_PENDING = 4096;

export class ResponseMeter implements TokenUsage {
  /** performance.now() of the first body byte from the backend. */
  firstByteAt?: number;
  /** performance.now() when the request went out to the backend (after any wait for the model). */
  dispatchedAt?: number;
  tokensIn?: number;
  tokensOut?: number;
  /** Text from an unfinished `"usage"` object, waiting for the rest of it. */
  private pending?: string;

  onDispatch(): void {
    this.dispatchedAt ??= performance.now();
  }

  onData(chunk: Buffer): void {
    this.firstByteAt ??= performance.now();
    if (this.pending !== undefined) {
      const text = this.pending + chunk.toString('utf8');
      this.pending = undefined;
      this.scan(text);
    } else if (chunk.indexOf(USAGE_KEY_BYTES) !== -1) this.scan(chunk.toString('utf8'));
  }

  private scan(text: string): void {
    for (let at = text.indexOf(USAGE_KEY); at !== -1; at = text.indexOf(USAGE_KEY, at + USAGE_KEY.length)) {
      const found = readUsageAt(text, at + USAGE_KEY.length);
      if (found === 'incomplete') {
        if (text.length - at <= MAX_PENDING) this.pending = text.slice(at);
        return;
      }
      if (found) {
        // Anthropic streams send input_tokens first (message_start), output_tokens later (message_delta).
        if (found.tokensIn !== undefined) this.tokensIn = found.tokensIn;
        if (found.tokensOut !== undefined) this.tokensOut = found.tokensOut;
      }
    }
  }
}

/**
 * Reads the value after a `"usage"` key starting at `from` (just after the key): the token counts
 * when it is an object with any, undefined when it is not (null, a string, no colon), or
 * 'incomplete' when the text ends inside it.
 */
export function readUsageAt(text: string, from: number): TokenUsage | undefined | 'incomplete' {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (i >= text.length) return 'incomplete';
  if (text[i] !== ':') return undefined;
  i++;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (i >= text.length) return 'incomplete';
  if (text[i] !== '{') return undefined;
  const end = matchingBrace(text, i);
  if (end === -1) return 'incomplete';
  let usage: Record<string, unknown>;
  try {
    usage = JSON.parse(text.slice(i, end + 1)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const tokensIn = count(usage.prompt_tokens) ?? count(usage.input_tokens);
  const tokensOut = count(usage.completion_tokens) ?? count(usage.output_tokens);
  if (tokensIn === undefined && tokensOut === undefined) return undefined;
  return { tokensIn, tokensOut };
}

/** Index of the `}` closing the `{` at `start`, skipping strings; -1 when the text ends first. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
