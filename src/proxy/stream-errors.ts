// Errors inside an SSE stream that already started: headers are gone, so the error becomes a
// final `data:` event in OpenAI's error shape, which OpenAI SDKs raise as an APIError.
import { errorMessage } from '../errors.js';

export function isEventStream(headers: Record<string, string | string[] | undefined>): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('text/event-stream');
}

export function streamErrorEvent(modelId: string, err: unknown): string {
  const error = {
    message: `The backend of model '${modelId}' broke off the stream: ${errorMessage(err)}. The answer is incomplete; retry the request.`,
    type: 'upstream_error',
    code: 'upstream_stream_broken',
  };
  return `data: ${JSON.stringify({ error })}\n\n`;
}

/** One SSE `data:` event; a JSON body is written on one line. */
export function sseEvent(json: string): string {
  return `data: ${json.replace(/\n/g, '')}\n\n`;
}
