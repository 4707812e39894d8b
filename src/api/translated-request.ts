// What a route that translates a request for the backend (Anthropic Messages or Responses → chat
// completions) needs to send it on: the translated body as bytes, and the client's headers.
import type { IncomingMessage } from 'node:http';
import { BadRequestError, errorMessage } from '../errors.js';

/** JSON.stringify recurses: a body nested thousands of levels deep is the client's error, not ours. */
export function stringifyTranslated(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    throw new BadRequestError(`The request could not be translated for the backend (${errorMessage(err)}): it is nested too deeply. Send a flatter JSON object.`, 'invalid_body');
  }
}

/**
 * Headers for a translated request: as the client sent them (an auth check reads them), except
 * that the answer must come back uncompressed for swapdock to translate it.
 */
export function translationHeaders(req: IncomingMessage): IncomingMessage['headers'] {
  const headers = { ...req.headers, 'content-type': 'application/json' };
  delete headers['accept-encoding'];
  return headers;
}
