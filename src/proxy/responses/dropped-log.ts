// What the Responses → chat completions translation dropped, logged at debug level once per name
// per process: Codex sends the same fields and tools (store, include, web_search…) on every
// request, and one line per request would bury everything else.
import type { Logger } from 'pino';

const logged = new Set<string>();
/** The names come from request bodies: bounded, so that made-up item types cannot grow the set without end. */
const MAX_NAMES = 500;
const MAX_NAME_LENGTH = 200;

export function logDroppedOnce(log: Pick<Logger, 'debug'>, what: string): void {
  const name = what.slice(0, MAX_NAME_LENGTH);
  if (logged.has(name) || logged.size >= MAX_NAMES) return;
  logged.add(name);
  log.debug({ dropped: name }, 'Responses request translated for a chat completions backend: dropped what has no chat completions counterpart (logged once per name)');
}
