// The forwarding core, free of any HTTP framework: validate the body, resolve the model, make it
// ready, and open the upstream request. Adapters (node-response.ts, the Hono route) write the
// upstream response out; the lease is released when the upstream body closes, however it ends.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import { BadRequestError, UpstreamError, errorMessage } from '../errors.js';
import type { Lease, Scheduler } from '../scheduler/scheduler.js';
import { ModelResolver, upstreamNameOf } from './model-resolver.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface ProxyRequest {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Fires when the client goes away: cancels the wait for a model and the upstream request. */
  signal: AbortSignal;
}

export interface UpstreamResponse {
  model: ModelConfig;
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Readable;
}

// Hop-by-hop headers belong to one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length',
]);

export function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
  }
  return out;
}

export class InferenceProxy {
  constructor(
    private readonly deps: { scheduler: Scheduler; resolver: ModelResolver; pools: UpstreamPools; log: Logger },
  ) {}

  async open(request: ProxyRequest): Promise<UpstreamResponse> {
    const { model, body } = this.prepareBody(request.body);
    const lease = await this.deps.scheduler.acquire(model.id, request.signal);
    try {
      return await this.send(lease, request, body);
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  /** Parses the JSON body, resolves `model`, and rewrites it to the backend's name when needed. */
  prepareBody(raw: Buffer): { model: ModelConfig; body: Buffer } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new BadRequestError(`The request body is not valid JSON (${errorMessage(err)}). Send a JSON object with a "model" field.`, 'invalid_json');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new BadRequestError('The request body must be a JSON object with a "model" field.', 'invalid_body');
    }
    const name = (parsed as { model?: unknown }).model;
    if (typeof name !== 'string' || name === '') {
      throw new BadRequestError('The request body has no "model" field. Name one of the models from GET /v1/models.', 'missing_model');
    }
    const model = this.deps.resolver.resolve(name);
    const upstreamName = upstreamNameOf(model);
    if (upstreamName === name) return { model, body: raw };
    (parsed as { model: string }).model = upstreamName;
    return { model, body: Buffer.from(JSON.stringify(parsed)) };
  }

  private async send(lease: Lease, request: ProxyRequest, body: Buffer): Promise<UpstreamResponse> {
    const pool = this.deps.pools.get(lease.endpoint);
    const headers = forwardableHeaders(request.headers);
    headers['content-length'] = String(body.length);
    let response;
    try {
      response = await pool.request({
        method: request.method as 'POST',
        path: request.path,
        headers,
        body,
        signal: request.signal,
      });
    } catch (err) {
      if (request.signal.aborted) throw err;
      throw new UpstreamError(lease.model.id, errorMessage(err));
    }
    const upstream = response.body as unknown as Readable;
    // 'close' fires on end, error and destroy alike: the single place a lease ends.
    upstream.once('close', lease.release);
    return {
      model: lease.model,
      statusCode: response.statusCode,
      headers: forwardableHeaders(response.headers),
      body: upstream,
    };
  }
}
