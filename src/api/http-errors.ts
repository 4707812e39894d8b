// Errors of the HTTP layer itself (before any model is involved). Rendered, like every
// SwapdockError, by error-response.ts.
import { SwapdockError, type ErrorType } from '../errors.js';

/** A browser page from an origin not in cors.origins asked to call swapdock (a preflight). */
export class OriginNotAllowedError extends SwapdockError {
  readonly status = 403;
  readonly type = 'invalid_request_error';
  readonly code = 'origin_not_allowed';
  constructor(origin: string) {
    super(`The origin ${origin} may not call swapdock from a browser. Add it to cors.origins in the config.`);
    this.headers = { vary: 'Origin' };
  }
}

/** The request target cannot be routed: an unusable URL, a bad percent-escape, a Host header that is missing or wrong. */
export class InvalidRequestTargetError extends SwapdockError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  readonly code = 'invalid_request_target';
  constructor(reason: string) {
    super(`The request's target is not usable (${reason}). Send a path starting with '/', escaping '%' as %25.`);
  }
}

/** What Node's HTTP parser refused: a head over limits.maxHeaderSize, a malformed request, a timeout. */
export class MalformedRequestError extends SwapdockError {
  readonly type: ErrorType = 'invalid_request_error';
  constructor(
    readonly status: 400 | 408 | 431,
    readonly code: 'malformed_request' | 'request_timeout' | 'headers_too_large',
    message: string,
  ) {
    super(message);
  }

  /** From the error Node's parser reports on a connection ('clientError'). */
  static fromParser(err: { code?: string; message: string }, maxHeaderBytes: number): MalformedRequestError {
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      return new MalformedRequestError(
        431,
        'headers_too_large',
        `The request head (request line and headers) is larger than the limit of ${Math.round(maxHeaderBytes / 1024)} KiB (limits.maxHeaderSize). Send fewer or smaller headers, or raise limits.maxHeaderSize in the config (it takes effect at the next start).`,
      );
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      return new MalformedRequestError(408, 'request_timeout', 'The request was not received in time (the server waited for its headers or body). Retry.');
    }
    return new MalformedRequestError(400, 'malformed_request', `The request could not be parsed as HTTP (${err.code ?? 'parse error'}: ${err.message}). Check the client; send a well-formed HTTP/1.1 request.`);
  }
}

/** An HTTP upgrade (WebSocket) on a route that only answers plain requests. */
export class UpgradeNotSupportedError extends SwapdockError {
  readonly status = 404;
  readonly type = 'not_found_error';
  readonly code = 'route_not_found';
  constructor(path: string) {
    super(`There is no WebSocket endpoint at ${path}: upgrades are passed through on /upstream/{model}/{path} only.`);
  }
}

/** POST /api/reload with a config that does not validate: the running config stays. */
export class InvalidConfigError extends SwapdockError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  readonly code = 'invalid_config';
  constructor(issues: { path: string; line?: number; message: string }[]) {
    super(
      `The config was not reloaded; the running config stays in force. Problems: ${issues.map((i) => `${i.path || '(top level)'}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`).join('; ')}`,
    );
    this.details = { issues };
  }
}
