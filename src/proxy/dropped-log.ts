// What a translation (Anthropic Messages or Responses → chat completions) dropped, logged at debug
// level once per name per process: clients send the same fields and tools (thinking,
// cache_control, store, web_search…) on every request, and one line per request would bury
// everything else.
import type { Logger } from 'pino';

/** The names come from request bodies: bounded, so that made-up types cannot grow the set without end. */
const MAX_NAMES = 500;
const MAX_NAME_LENGTH = 200;

export type LogDropped = (log: Pick<Logger, 'debug'>, what: string) => void;

/** A logger of dropped names with its own memory of what it logged; `message` says which translation. */
export function droppedLogger(message: string): LogDropped {
  const logged = new Set<string>();
  return (log, what) => {
    const name = what.slice(0, MAX_NAME_LENGTH);
    if (logged.has(name) || logged.size >= MAX_NAMES) return;
    logged.add(name);
    log.debug({ dropped: name }, message);
  };
}
