// Typed errors shared by every layer. Each carries the HTTP status and the OpenAI error
// `type`/`code` it maps to; `src/api/error-response.ts` is the one place that renders them.
// Messages say what happened, the limit involved, and what to do next.

export type ErrorType =
  | 'invalid_request_error'
  | 'not_found_error'
  | 'server_error'
  | 'upstream_error'
  | 'service_unavailable'
  | 'rate_limit_error';

export abstract class SwapdockError extends Error {
  abstract readonly status: number;
  abstract readonly type: ErrorType;
  abstract readonly code: string;
  /** Seconds a client should wait before retrying, when that is known. */
  retryAfterSeconds?: number;
  /** Response headers the error needs (e.g. `www-authenticate` on a 401). */
  headers?: Record<string, string>;
  /** Fields beside `error` in an OpenAI-shaped body (e.g. every problem of a rejected config). */
  details?: Record<string, unknown>;
}

export class BadRequestError extends SwapdockError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    readonly code = 'bad_request',
  ) {
    super(message);
  }
}

export class ModelNotFoundError extends SwapdockError {
  readonly status = 404;
  readonly type = 'not_found_error';
  readonly code = 'model_not_found';
  constructor(
    readonly requested: string,
    readonly available: string[],
  ) {
    super(
      `The model '${requested}' is not configured here. Available models: ${available.join(', ') || '(none)'}. ` +
        'Use one of these names, or add the model to the config file.',
    );
  }
}

export class RouteNotFoundError extends SwapdockError {
  readonly status = 404;
  readonly type = 'not_found_error';
  readonly code = 'route_not_found';
  constructor(method: string, path: string) {
    super(`There is no endpoint ${method} ${path}. See GET /v1/models and the README's endpoint list.`);
  }
}

/** A model's container could not be made ready (image, create, start, crash, health timeout). */
export class ModelStartError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  constructor(
    readonly model: string,
    readonly reason: string,
    readonly code = 'model_start_failed',
    readonly lastLogLines: string[] = [],
  ) {
    super(`Model '${model}' could not be started: ${reason}.${quoteLogLines(lastLogLines)}`);
  }
}

export class ShuttingDownError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'shutting_down';
  constructor() {
    super('swapdock is shutting down and accepts no new requests. Retry once it is back.');
    this.retryAfterSeconds = 5;
  }
}

/** The backend could not be reached or broke the connection before answering. */
export class UpstreamError extends SwapdockError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly code = 'upstream_unreachable';
  constructor(
    readonly model: string,
    cause: string,
  ) {
    super(`The backend of model '${model}' failed to answer: ${cause}. Check its logs; the request was not completed.`);
  }
}

/** The container engine (Docker or Podman) failed or is unreachable. */
export class EngineError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  constructor(
    message: string,
    readonly code = 'engine_error',
    readonly engineStatus?: number,
  ) {
    super(message);
  }
}

/** The container's last log lines as one sentence of an error message ('' when there are none). */
function quoteLogLines(lines: readonly string[]): string {
  return lines.length ? ` Last container log lines: ${lines.slice(-10).join(' | ')}` : '';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PayloadTooLargeError extends SwapdockError {
  readonly status = 413;
  readonly type = 'invalid_request_error';
  readonly code = 'payload_too_large';
  constructor(limitBytes: number) {
    const limit = limitBytes >= 1048576 ? `${Math.round(limitBytes / 1048576)} MiB` : `${Math.round(limitBytes / 1024)} KiB`;
    super(`The request body is larger than the limit of ${limit} (limits.maxBody). Send a smaller request, or raise limits.maxBody in the config.`);
  }
}

/** The model's queue is full (`maxQueue`). */
export class QueueFullError extends SwapdockError {
  readonly status = 429;
  readonly type = 'rate_limit_error';
  readonly code = 'queue_full';
  constructor(model: string, maxQueue: number, retryAfterSeconds: number) {
    super(`Model '${model}' already has ${maxQueue} requests waiting (its maxQueue). Retry after ${retryAfterSeconds} s, or raise maxQueue.`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A request waited longer than `queue.maxWait` for its model. */
export class QueueTimeoutError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'queue_timeout';
  constructor(model: string, maxWaitMs: number, state: string, retryAfterSeconds: number) {
    super(`Waited ${Math.round(maxWaitMs / 1000)} s (queue.maxWait) for model '${model}', which is ${state}. Retry after ${retryAfterSeconds} s, or raise queue.maxWait.`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The model can never be placed with the current pinned models and GPUs. */
export class ModelUnplaceableError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'model_unplaceable';
  constructor(model: string, reason: string) {
    super(`Model '${model}' cannot be loaded now: ${reason}. Unload or unpin a model (POST /api/models/{id}/unload), or change gpus/vram in the config.`);
  }
}

/** An engine of the pool is unreachable: a model that may run only there cannot be served, or its container was lost with it. */
export class EngineDownError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'engine_unavailable';
  constructor(
    readonly model: string,
    readonly engines: string[],
    reason: string,
    lost = false,
  ) {
    const names = engines.map((e) => `'${e}'`).join(', ');
    super(
      lost
        ? `Model '${model}' was lost with engine ${names}, which became unreachable (${reason}). Retry: swapdock places it on another engine that allows it, or uses this one again as soon as it answers.`
        : `Model '${model}' may run only on engine ${names}, which ${engines.length > 1 ? 'are' : 'is'} unreachable (${reason}). swapdock uses it again as soon as it answers: retry in a few seconds, or allow other engines in models.${model}.engines.`,
    );
    this.retryAfterSeconds = 5;
  }
}

/** An admin unloaded the model while the request waited for it or ran on it. */
export class ModelUnloadedError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'model_unloaded';
  constructor(model: string) {
    super(`Model '${model}' was unloaded by an administrator while this request used it. Retry to load it again.`);
    this.retryAfterSeconds = 1;
  }
}

/** The model's container died or vanished while it was serving. */
export class ModelCrashedError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'model_crashed';
  constructor(
    readonly model: string,
    readonly reason: string,
    readonly lastLogLines: string[] = [],
  ) {
    super(`Model '${model}' stopped unexpectedly: ${reason}. The next request starts it again (after a short delay if it keeps failing).${quoteLogLines(lastLogLines)}`);
    this.retryAfterSeconds = 1;
  }
}

/** The model failed repeatedly; starts are spaced out so a broken model cannot hog the GPU. */
export class CrashLoopError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code = 'model_crash_loop';
  /** `maxWaitMs`: queue.maxWait, when the request was refused because it could not wait that long. */
  constructor(model: string, failures: number, retryAfterMs: number, lastError: string | undefined, maxWaitMs?: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const limit = maxWaitMs === undefined ? '' : `, later than this request may wait (queue.maxWait ${formatSeconds(maxWaitMs)})`;
    super(
      `Model '${model}' failed ${failures} times in a row, so swapdock waits before starting it again (crash-loop backoff): next attempt in ${seconds} s${limit}.` +
        (lastError ? ` Last failure: ${lastError.replace(/\.?$/, '.')}` : '') + ' Check its logs and config; POST /api/models/{id}/load retries at once.',
    );
    this.retryAfterSeconds = seconds;
  }
}

/** `1.5 s`, `30 s`: a limit in a message. */
function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The backend broke off a response after its head went out: the answer is incomplete. */
export class UpstreamStreamBrokenError extends SwapdockError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly code = 'upstream_stream_broken';
  constructor(model: string, cause: unknown) {
    super(`The backend of model '${model}' broke off the stream: ${errorMessage(cause)}. The answer is incomplete; retry the request.`);
  }
}

/** POST /api/models/{id}/sleep on a model that cannot sleep now. */
export class SleepRefusedError extends SwapdockError {
  readonly status = 409;
  readonly type = 'invalid_request_error';
  constructor(
    model: string,
    why: string,
    readonly code: 'model_cannot_sleep' | 'model_not_loaded' | 'model_busy',
  ) {
    super(`Model '${model}' cannot be put to sleep: ${why}.`);
  }
}

/** /upstream/{model}/… aimed at one of the model server's control endpoints (sleep, wake, RPC). */
export class ControlEndpointError extends SwapdockError {
  readonly status = 403;
  readonly type = 'invalid_request_error';
  readonly code = 'control_endpoint';
  constructor(model: string, path: string) {
    super(
      `${path} is a control endpoint of the server of '${model}' (sleep, wake, reload or RPC): swapdock alone drives it, so /upstream does not pass it through. ` +
        `Use POST /api/models/${model}/sleep or /load with an admin key instead.`,
    );
  }
}
