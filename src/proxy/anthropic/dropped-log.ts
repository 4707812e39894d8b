// What the Anthropic → OpenAI translation dropped, logged at debug level once per name per process:
// Claude Code sends the same fields (thinking, context_management, cache_control…) on every
// request, and one line per request would bury everything else.
import type { Logger } from 'pino';

const logged = new Set<string>();
/** The names come from request bodies: bounded, so that made-up block types cannot grow the set without end. */
const MAX_NAMES = 500;
const MAX_NAME_LENGTH = 200;

export function logDroppedOnce(log: Pick<Logger, 'debug'>, what: string): void {
  const name = what.slice(0, MAX_NAME_LENGTH);
  if (logged.has(name) || logged.size >= MAX_NAMES) return;
  logged.add(name);
  log.debug({ dropped: name }, 'Anthropic request translated for an OpenAI backend: dropped what has no chat completions counterpart (logged once per name)');
}
