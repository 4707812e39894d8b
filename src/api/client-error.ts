// The Node server's 'clientError' listener: a request Node's HTTP parser refuses (a head over
// limits.maxHeaderSize, a malformed request line or header, a timeout) gets a JSON error in the
// OpenAI shape, like every other error, instead of Node's bare 400 with no body.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

interface ParserError extends Error {
  code?: string;
  /** The bytes Node's parser choked on (the start of the request, for a head that failed). */
  rawPacket?: Buffer;
}

export function clientErrorResponse(err: ParserError, maxHeaderBytes: number): { status: number; body: string } {
  let status = 400;
  let code = 'malformed_request';
  let message = `The request could not be parsed as HTTP (${err.code ?? 'parse error'}: ${err.message}). Check the client; send a well-formed HTTP/1.1 request.`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message = `The request head (request line and headers) is larger than the limit of ${Math.round(maxHeaderBytes / 1024)} KiB (limits.maxHeaderSize). Send fewer or smaller headers, or raise limits.maxHeaderSize in the config (it takes effect at the next start).`;
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'request_timeout';
    message = 'The request was not received in time (the server waited for its headers or body). Retry.';
  }
  // Anthropic clients get their own error shape, when the request line shows who is asking.
  const anthropic = /^[A-Z]+ \/v1\/messages[/? ]/.test(err.rawPacket?.subarray(0, 64).toString('latin1') ?? '');
  const body = anthropic ? { type: 'error', error: { type: status === 413 || status === 431 ? 'request_too_large' : 'invalid_request_error', message } } : { error: { message, type: 'invalid_request_error', code } };
  return { status, body: JSON.stringify(body) };
}

/** `server.on('clientError', clientErrorListener(() => limit))`. */
export function clientErrorListener(maxHeaderBytes: number) {
  return function answerClientError(err: ParserError, socket: Duplex): void {
    // A reset connection, or one whose response already began: nobody to answer, or too late to.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, body } = clientErrorResponse(err, maxHeaderBytes);
    const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD '; // an answer to HEAD has no body
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? '' : body}`,
    );
  };
}

/**
 * For @hono/node-server's `errorHandler`: a request it cannot turn into a WHATWG Request (no or a
 * bad Host header, a backslash in the path, an unparsable URL) gets a JSON 400, not an empty one.
 */
export function unusableRequestTarget(err: unknown): Response {
  const reason = err instanceof Error ? err.message : String(err);
  const body = JSON.stringify({
    error: {
      message: `The request's target or Host header is not usable (${reason}). Send a path starting with '/' and a valid Host header.`,
      type: 'invalid_request_error',
      code: 'invalid_request_target',
    },
  });
  return new Response(body, { status: 400, headers: { 'content-type': 'application/json' } });
}
