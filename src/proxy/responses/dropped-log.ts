// What the Responses → chat completions translation dropped (store, include, web_search… that
// Codex sends on every request): logged once per name (../dropped-log.ts).
import { droppedLogger } from '../dropped-log.js';

export const logDroppedOnce = droppedLogger('Responses request translated for a chat completions backend: dropped what has no chat completions counterpart (logged once per name)');
