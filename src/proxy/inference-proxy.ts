// The forwarding core, free of any HTTP framework: validate the body, resolve the model, make it
// ready, and send the upstream request. `forward()` and `passthrough()` hand the answer to a sink
// as undici parses it, with no stream in between (src/api/node-response.ts writes it into the
// Node response). The lease is released exactly once, when the upstream response ends, however
// it ends.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { ModelConfig } from '../config/schema.js';
import { BadRequestError, ModelNotFoundError, UpstreamError, errorMessage } from '../errors.js';
import { SendAgainOnNewContainer, isConnectFailure, maySendAgainAfterCrash, type FailedAttempt } from '../scheduler/crash-resend.js';
import type { Lease, Scheduler } from '../scheduler/scheduler.js';
import type { Cancellation } from '../util/lazy-abort.js';
import type { LeaseOutcome } from '../scheduler/scheduler-context.js';
import { ModelResolver, upstreamNameOf } from './model-resolver.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface ProxyRequest {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `body` already parsed by the route (it is not parsed again); may be rewritten in place. */
  parsed?: JsonBody;
  /** Fires when the client goes away: cancels the wait for a model and the upstream request. */
  signal: Cancellation;
  /** Called when a streaming request (`"stream": true`) has to wait for its model. */
  onStreamWait?: (model: ModelConfig) => void;
}

/** A JSON request body: an object naming its model. */
export type JsonBody = Record<string, unknown> & { model: string };

/** Parses a request body that must be a JSON object with a `model` field; `wants` names what it should hold, for the error. */
export function parseJsonBody(raw: Buffer, wants = 'a "model" field'): JsonBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`The request body is not valid JSON (${errorMessage(err)}). Send a JSON object with ${wants}.`, 'invalid_json');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequestError(`The request body must be a JSON object with ${wants}.`, 'invalid_body');
  }
  const name = (parsed as { model?: unknown }).model;
  if (typeof name !== 'string' || name === '') {
    throw new BadRequestError('The request body has no "model" field. Name one of the models from GET /v1/models.', 'missing_model');
  }
  return parsed as JsonBody;
}

/** Flow control of one upstream response, for a sink (undici's DispatchController satisfies it). */
export interface UpstreamControl {
  /** Stops reading the upstream until resume(): the client is slower than the backend. */
  pause(): void;
  resume(): void;
  /** Cancels the upstream request; the sink hears no more of it, except onBroken if the head was out. */
  abort(reason: Error): void;
}

/** Receives an upstream response from `forward()`, chunk by chunk as undici parses it. */
export interface UpstreamSink {
  /** The request is on its way on a connection; `control.abort` cancels it (e.g. the client left). */
  onStart(control: UpstreamControl): void;
  /** Status and headers, hop-by-hop ones removed. May throw (nothing was sent): forward() rejects with that error. */
  onHead(model: ModelConfig, statusCode: number, headers: Record<string, string | string[]>, control: UpstreamControl): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  /** The upstream failed after onHead: the response is incomplete. */
  onBroken(err: Error): void;
}

// Hop-by-hop headers belong to one connection, never forwarded (RFC 9110 §7.6.1). A backend's
// CORS headers are dropped too: swapdock answers for CORS itself (cors.origins, src/api/cors.ts).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length',
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods',
  'access-control-allow-headers', 'access-control-expose-headers', 'access-control-max-age',
]);

export function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
  }
  return out;
}

/** Applies the model's `params` (strip, then set) to a parsed body; `model` is protected. True when it changed anything. */
export function shapeBody(body: Record<string, unknown>, model: ModelConfig): boolean {
  const params = model.params;
  if (!params) return false;
  let changed = false;
  for (const key of params.strip) {
    if (key !== 'model' && key in body) {
      delete body[key];
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(params.set)) {
    if (key === 'model') continue;
    body[key] = value;
    changed = true;
  }
  return changed;
}

/**
 * Asked once the model of a request is known, before it is started: throws (403) when the client's
 * API key may not use `model`; may remove swapdock's own credentials from `forwarded`, the headers
 * going upstream. Absent = every request may use every model.
 */
export type ModelAccessCheck = (incoming: IncomingHttpHeaders, model: ModelConfig, forwarded: Record<string, string | string[]>) => void;

export class InferenceProxy {
  constructor(
    private readonly deps: { scheduler: Scheduler; resolver: ModelResolver; pools: UpstreamPools; log: Logger; access?: ModelAccessCheck },
  ) {}

  /** Throws (403) when the request's API key may not use `model`: for routes that answer without forwarding. */
  checkAccess(incoming: IncomingHttpHeaders, model: ModelConfig): void {
    this.deps.access?.(incoming, model, {});
  }

  /** prepareBody(), except that a "no such model" error lists only the models the request's key may use. */
  private prepareFor(request: ProxyRequest): ReturnType<InferenceProxy['prepareBody']> {
    try {
      return this.prepareBody(request.body, request.parsed);
    } catch (err) {
      throw this.hideUnusable(err, request.headers);
    }
  }

  /** A "no such model" error narrowed to the models the request's API key may use (others stay hidden); any other error as it is. */
  hideUnusable(err: unknown, incoming: IncomingHttpHeaders): unknown {
    const access = this.deps.access;
    if (!access || !(err instanceof ModelNotFoundError)) return err;
    const usable = err.available.filter((name) => {
      try {
        access(incoming, this.deps.resolver.resolve(name), {});
        return true;
      } catch {
        return false;
      }
    });
    return new ModelNotFoundError(err.requested, usable);
  }

  /** The headers to send upstream, once the access check let the request use `model` (it throws otherwise). */
  private upstreamHeaders(incoming: IncomingHttpHeaders, model: ModelConfig): Record<string, string | string[]> {
    const headers = forwardableHeaders(incoming);
    this.deps.access?.(incoming, model, headers);
    return headers;
  }

  /**
   * Sends the request upstream and delivers the response to `sink`. Resolves with the model once
   * the head went to the sink; rejects, having called nothing on the sink but maybe onStart, when
   * there is no upstream response: bad body, unknown model, failed start, unreachable backend
   * (UpstreamError), or the client left (the abort reason).
   */
  async forward(request: ProxyRequest, sink: UpstreamSink): Promise<ModelConfig> {
    const { model, body, streaming } = this.prepareFor(request);
    const headers = this.upstreamHeaders(request.headers, model);
    headers['content-length'] = String(body.length);
    const onWait = streaming && request.onStreamWait ? () => request.onStreamWait!(model) : undefined;
    return this.dispatch(await this.acquire(model, request.signal, onWait), request, headers, body, sink, onWait);
  }

  /** A lease on `model`; `onWait` is called when the request has to wait for it. */
  private acquire(model: ModelConfig, signal: Cancellation, onWait?: () => void): Lease | Promise<Lease> {
    const acquired = this.deps.scheduler.acquire(model.id, signal);
    if (acquired instanceof Promise) onWait?.();
    return acquired;
  }

  /**
   * `/upstream/{model}/{path}`: anything, to that model's container, as it is — the body streams
   * through unparsed. The model is started when needed, like for an inference request.
   */
  async passthrough(model: ModelConfig, request: Omit<ProxyRequest, 'body'> & { body: Readable | null }, sink: UpstreamSink): Promise<ModelConfig> {
    const headers = this.upstreamHeaders(request.headers, model);
    const lease = await this.deps.scheduler.acquire(model.id, request.signal);
    const length = request.headers['content-length'];
    if (length !== undefined) headers['content-length'] = length;
    return this.dispatch(lease, request, headers, request.body, sink);
  }

  /**
   * Sends the request on `lease`. When it found the container dead and had reached it only after
   * the crash (crash-resend.ts), it is sent once more, on the container started for it.
   */
  private async dispatch(lease: Lease, request: Pick<ProxyRequest, 'method' | 'path' | 'signal'>, headers: Record<string, string | string[]>, body: Buffer | Readable | null, sink: UpstreamSink, onWait?: () => void): Promise<ModelConfig> {
    const replayable = body === null || Buffer.isBuffer(body);
    try {
      return await this.dispatchOnce(lease, request, headers, body, sink, { replayable, resent: false });
    } catch (err) {
      if (!(err instanceof SendAgainOnNewContainer)) throw err;
      this.logResend(lease.model, err.crash);
      return this.dispatchOnce(await this.acquire(lease.model, request.signal, onWait), request, headers, body, sink, { replayable, resent: true });
    }
  }

  private logResend(model: ModelConfig, crash: Error): void {
    this.deps.log.info({ model: model.id, reason: errorMessage(crash) }, `A request reached the container of '${model.id}' after it had died; sending it again on a new container`);
  }

  private dispatchOnce(lease: Lease, request: Pick<ProxyRequest, 'method' | 'path' | 'signal'>, headers: Record<string, string | string[]>, body: Buffer | Readable | null, sink: UpstreamSink, attempt: Attempt): Promise<ModelConfig> {
    return new Promise<ModelConfig>((resolve, reject) => {
      const handler = new ForwardHandler(lease, sink, request.signal, resolve, reject, (err) => this.failureFor(lease, err, attempt));
      // A forced unload cuts the request, wherever it is (ended by the handler's last event).
      lease.onRevoke(handler.onLeaseAbort);
      try {
        // Errors from here on reach handler.onResponseError, which releases the lease.
        this.deps.pools.get(lease.endpoint).dispatch({ method: request.method as 'POST', path: request.path, headers, body }, handler);
      } catch (err) {
        handler.end('broken');
        void this.failureFor(lease, err, attempt).then(reject);
      }
    });
  }

  /**
   * The error for a backend that gave no response: when its container has died (engines report
   * that a moment later), the crash, with its cause and logs — or SendAgainOnNewContainer when
   * the request reached the container only after it died; otherwise an unreachable upstream (502).
   */
  private async failureFor(lease: Lease, err: unknown, attempt: Attempt): Promise<Error> {
    const crash = await this.deps.scheduler.verifyAlive(lease.model.id, lease.containerId);
    if (!crash) return new UpstreamError(lease.model.id, errorMessage(err));
    const again = maySendAgainAfterCrash({ ...attempt, noResponse: true, connectFailed: isConnectFailure(err), grantedAfterFailure: lease.grantedAfterFailure, fromQueue: lease.fromQueue });
    return again ? new SendAgainOnNewContainer(crash) : crash;
  }

  /** Parses the JSON body (unless the route did), resolves `model`, and rewrites it to the backend's name when needed. */
  prepareBody(raw: Buffer, parsed: JsonBody = parseJsonBody(raw)): { model: ModelConfig; body: Buffer; streaming: boolean } {
    const name = parsed.model;
    const { model, viaFallback } = this.deps.resolver.resolveForRequest(name);
    if (viaFallback) this.deps.log.info({ requested: name, model: model.id }, `No model '${name}' is configured: serving it with the fallback '${model.id}'`);
    const upstreamName = upstreamNameOf(model);
    const streaming = parsed.stream === true;
    const shaped = shapeBody(parsed, model);
    if (upstreamName === name && !shaped) return { model, body: raw, streaming };
    parsed.model = upstreamName;
    let rewritten: string;
    try {
      rewritten = JSON.stringify(parsed);
    } catch (err) {
      // JSON.parse takes any depth; JSON.stringify recurses and runs out of stack on thousands of levels.
      throw new BadRequestError(`The request body could not be rewritten for the backend (${errorMessage(err)}): it is nested too deeply. Send a flatter JSON object.`, 'invalid_body');
    }
    return { model, body: Buffer.from(rewritten), streaming };
  }
}

/** Whether a failed attempt may be sent again (crash-resend.ts). */
type Attempt = Pick<FailedAttempt, 'replayable' | 'resent'>;

/** How a request that got a response head ended, for its lease: a complete answer below 500 shows the model works. */
function outcomeOf(statusCode: number, complete: boolean, upstreamFailed: boolean): LeaseOutcome | undefined {
  if (complete) return statusCode < 500 ? 'served' : undefined;
  return upstreamFailed ? 'broken' : undefined;
}

/** undici handler for forward(): passes each event on to the sink and ends the lease. */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private headSent = false;
  private headError: Error | undefined;
  private statusCode = 0;

  constructor(
    private readonly lease: Lease,
    private readonly sink: UpstreamSink,
    private readonly signal: Cancellation,
    private readonly resolve: (model: ModelConfig) => void,
    private readonly reject: (err: unknown) => void,
    private readonly explainFailure: (err: Error) => Promise<Error>,
  ) {}

  readonly onLeaseAbort = (reason: Error) => this.controller?.abort(reason);

  /** Releases the lease; called once, by the last event undici delivers. */
  end(outcome?: LeaseOutcome): void {
    this.lease.onRevoke(undefined);
    this.lease.release(outcome);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client may have left, or the model been unloaded, while the request waited for a connection.
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
    else if (this.lease.revoked) controller.abort(this.lease.revoked);
    else this.sink.onStart(controller);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real head follows
    this.statusCode = statusCode;
    try {
      this.sink.onHead(this.lease.model, statusCode, forwardableHeaders(headers), controller);
    } catch (err) {
      this.headError = err as Error;
      controller.abort(err as Error);
      return;
    }
    this.headSent = true;
    this.resolve(this.lease.model);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.sink.onData(chunk);
  }

  onResponseEnd(): void {
    this.sink.onEnd();
    this.end(outcomeOf(this.statusCode, true, false));
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    // Not the backend's doing when the client left, the model went away or the sink refused the head.
    this.end(this.signal.aborted || this.lease.revoked || this.headError ? undefined : 'broken');
    if (this.headSent) this.sink.onBroken(err);
    else if (this.headError) this.reject(this.headError);
    else if (this.signal.aborted) this.reject(err);
    else if (this.lease.revoked) this.reject(this.lease.revoked);
    else void this.explainFailure(err).then(this.reject);
  }
}
