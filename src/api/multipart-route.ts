// Multipart uploads (audio transcriptions and translations, image edits and variations): the
// model is a form field, so the body is read only until that field — kept in memory while small,
// spooled to a temp file beyond `spoolThresholdBytes` (clients put the file first) — then the
// bytes read so far are replayed and the rest of the upload is piped through, never buffered whole.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import { BadRequestError, PayloadTooLargeError } from '../errors.js';
import type { InferenceProxy } from '../proxy/inference-proxy.js';
import { upstreamNameOf, type ModelResolver } from '../proxy/model-resolver.js';
import { MultipartModelFinder, multipartBoundary, type FoundModel } from '../proxy/multipart-model.js';
import type { AppEnv } from './app-env.js';
import { NodeResponseSink } from './node-response.js';
import { attachSink } from './proxied.js';

const DEFAULT_SPOOL_THRESHOLD = 1024 * 1024;

export interface MultipartRouteDeps {
  proxy: InferenceProxy;
  resolver: ModelResolver;
  log: Logger;
  /** limits.maxBody of the config in force. */
  maxBodyBytes: () => number;
  /** Bytes read before the model field kept in memory; beyond, they go to a temp file. */
  spoolThresholdBytes?: number;
}

export function multipartHandler(deps: MultipartRouteDeps): Handler<AppEnv> {
  return async function forwardMultipart(c) {
    const req = c.env.incoming;
    const res = c.env.outgoing!;
    const tracked = c.var.tracked;
    const sink = attachSink(tracked, new NodeResponseSink(res, tracked.requestId, tracked.meter), deps.log);
    const prefix = new UploadPrefix(deps.spoolThresholdBytes ?? DEFAULT_SPOOL_THRESHOLD);
    res.once('close', () => prefix.discard());
    const limit = deps.maxBodyBytes();
    let overLimit = false;
    try {
      const boundary = multipartBoundary(req.headers['content-type']);
      if (!boundary) {
        throw new BadRequestError(`${req.url?.split('?')[0]} takes multipart/form-data with a boundary (a file and a "model" field), not '${req.headers['content-type'] ?? 'no content type'}'.`, 'not_multipart');
      }
      if (Number(req.headers['content-length']) > limit) throw new PayloadTooLargeError(limit);
      const found = await readUntilModel(req, new MultipartModelFinder(boundary), prefix, limit);
      await prefix.finish();
      const { model, viaFallback } = deps.resolver.resolveForRequest(found.value);
      if (viaFallback) deps.log.info({ requested: found.value, model: model.id }, `No model '${found.value}' is configured: serving it with the fallback '${model.id}'`);
      const upstreamName = upstreamNameOf(model);
      const replacement = upstreamName === found.value ? undefined : Buffer.from(upstreamName);
      const headers: IncomingHttpHeaders = { ...req.headers };
      delete headers.expect; // answered here (100-continue); undici refuses to send it
      if (replacement && headers['content-length'] !== undefined) {
        headers['content-length'] = String(Number(headers['content-length']) + replacement.length - (found.end - found.start));
      }
      const body = Readable.from(replay(prefix, req, found, replacement, limit, () => (overLimit = true)), { objectMode: false });
      await deps.proxy.passthrough(model, { method: 'POST', path: req.url ?? '/', headers, body, signal: tracked.abort }, sink);
    } catch (err) {
      if (!req.readableEnded) req.resume(); // drain the rest of the upload so the client reads the answer
      throw overLimit ? new PayloadTooLargeError(limit) : err;
    }
    return RESPONSE_ALREADY_SENT;
  };
}

/** Reads the request until the finder has the model field; the bytes read go to `prefix`. Leaves the request paused. */
function readUntilModel(req: IncomingMessage, finder: MultipartModelFinder, prefix: UploadPrefix, limit: number): Promise<FoundModel> {
  return new Promise<FoundModel>((resolve, reject) => {
    let size = 0;
    let settled = false;
    const settle = (outcome: () => FoundModel) => {
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onError);
      req.pause();
      try {
        resolve(outcome());
      } catch (err) {
        reject(err);
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return settle(() => { throw new PayloadTooLargeError(limit); });
      let found: FoundModel | undefined;
      try {
        found = finder.push(chunk);
      } catch (err) {
        return settle(() => { throw err; });
      }
      // A slow disk pauses the upload rather than letting it pile up in memory.
      if (!prefix.add(chunk)) {
        req.pause();
        prefix.onDrain(() => { if (!settled) req.resume(); });
      }
      if (found) {
        if (found.value === '') return settle(() => { throw new BadRequestError('The multipart "model" field is empty. Name a model from GET /v1/models.', 'missing_model'); });
        settle(() => found);
      }
    };
    const onEnd = () => settle(() => finder.end());
    const onError = (err: Error) => settle(() => { throw err; });
    req.on('data', onData).once('end', onEnd).once('error', onError);
  });
}

/** What the upload sends upstream: the bytes read so far, then the rest, with the model value rewritten when needed. */
async function* replay(prefix: UploadPrefix, rest: IncomingMessage, found: FoundModel, replacement: Buffer | undefined, limit: number, onOverLimit: () => void): AsyncGenerator<Buffer> {
  let offset = 0;
  function* splice(chunk: Buffer): Generator<Buffer> {
    const from = offset;
    offset += chunk.length;
    if (!replacement || offset <= found.start || from >= found.end) return yield chunk;
    const start = Math.max(found.start - from, 0);
    const end = Math.min(found.end - from, chunk.length);
    if (start > 0) yield chunk.subarray(0, start);
    if (found.start >= from) yield replacement;
    if (end < chunk.length) yield chunk.subarray(end);
  }
  try {
    for await (const chunk of prefix.chunks()) yield* splice(chunk as Buffer);
    let size = prefix.size;
    // Not destroyed when this stops early: the route still answers on its connection (and drains it).
    for await (const chunk of rest.iterator({ destroyOnReturn: false })) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        onOverLimit();
        throw new PayloadTooLargeError(limit);
      }
      yield* splice(chunk as Buffer);
    }
  } finally {
    prefix.discard();
  }
}

/** The bytes read before the model field: in memory up to a threshold, then in a temp file. */
class UploadPrefix {
  size = 0;
  private memory: Buffer[] = [];
  private file?: { path: string; stream: WriteStream; error?: Error };

  constructor(private readonly thresholdBytes: number) {}

  /** False when the spool file wants the writer to wait for onDrain(). */
  add(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (!this.file && this.size <= this.thresholdBytes) {
      this.memory.push(chunk);
      return true;
    }
    if (!this.file) {
      const path = join(tmpdir(), `swapdock-upload-${randomUUID()}`);
      const stream = createWriteStream(path, { mode: 0o600 });
      this.file = { path, stream };
      stream.once('error', (err) => (this.file!.error = err));
      for (const held of this.memory.splice(0)) stream.write(held);
    }
    return this.file.stream.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.file?.stream.once('drain', callback);
  }

  /** Waits until the spool file holds everything written to it. */
  async finish(): Promise<void> {
    const file = this.file;
    if (!file) return;
    if (file.error) throw file.error;
    await new Promise<void>((resolve, reject) => {
      file.stream.once('error', reject);
      file.stream.end(() => resolve());
    });
  }

  chunks(): AsyncIterable<Buffer> | Iterable<Buffer> {
    return this.file ? createReadStream(this.file.path) : this.memory;
  }

  /** Removes the spool file; idempotent. */
  discard(): void {
    this.memory = [];
    if (!this.file) return;
    const { path, stream } = this.file;
    stream.destroy();
    rmSync(path, { force: true });
  }
}
