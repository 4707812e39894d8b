// What the Anthropic → OpenAI translation dropped (thinking, context_management, cache_control…
// that Claude Code sends on every request): logged once per name (../dropped-log.ts).
import { droppedLogger } from '../dropped-log.js';

export const logDroppedOnce = droppedLogger('Anthropic request translated for an OpenAI backend: dropped what has no chat completions counterpart (logged once per name)');
