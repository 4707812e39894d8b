// Errors of the Anthropic endpoint. Like every SwapdockError they are rendered by
// src/api/error-response.ts (in Anthropic shape on /v1/messages*).
import { SwapdockError } from '../../errors.js';

/** The backend answered with an HTTP error: passed on with the same status. */
export class UpstreamStatusError extends SwapdockError {
  readonly type = 'upstream_error';
  readonly code: string;
  constructor(
    readonly status: number,
    model: string,
    upstreamMessage: string,
  ) {
    super(`The backend of model '${model}' answered ${status}: ${upstreamMessage}`);
    this.code = `upstream_${status}`;
  }
}

/** The Hono app alone (no Node server) cannot serve /v1/messages: it needs the Node listener. */
export class AnthropicNeedsServerError extends SwapdockError {
  readonly status = 501;
  readonly type = 'invalid_request_error';
  readonly code = 'anthropic_needs_server';
  constructor(path: string) {
    super(`${path} is served by swapdock's Node server (swapdock serve / startServer), not by the bare HTTP app. Send the request to the running server.`);
  }
}
