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
