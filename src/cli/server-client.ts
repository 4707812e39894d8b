// The admin API of a running swapdock as the CLI uses it: GET /api/models, load and unload,
// a model's log (history, or followed over SSE). Sends SWAPDOCK_API_KEY as a bearer token. Every
// failure becomes a ClientError whose message says what to do. No timeouts on answers: a load
// answers once the model is ready, which may take as long as its startTimeout.
import { createParser } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import { Client } from '../util/undici-core.js';
import { ConnectionLostError, NotSwapdockError, ServerAuthError, ServerRequestError, ServerUnreachableError, UnknownModelError } from './client-errors.js';

/** One model of GET /api/models (the fields the CLI reads; the server sends more). */
export interface ModelView {
  id: string;
  status: string;
  aliases: string[];
  usesGpu: boolean;
  /** The engine of the pool it runs on (absent while it holds none, and from a swapdock before engine pools). */
  engine?: string;
  devices: string[];
  vramBytes?: number;
  inFlight: number;
  queued: number;
  draining: boolean;
  pinned: boolean;
  baseline: boolean;
  lastUsedAt: string | null;
  loadDurationMs?: number;
  lastError?: string;
  sleep: { vramBytes: number } | null;
}

/** One engine of the pool in GET /api/models (absent from a swapdock before engine pools). */
export interface EngineView {
  name: string;
  gpus: { id: string; vramBytes: number }[] | null;
  reachable: boolean;
  unavailable?: string;
  downSince?: string;
}

export interface ModelsView {
  gpus: { id: string; vramBytes: number }[] | null;
  engines?: EngineView[];
  swap: { policy: string; maxWaitMs: number; swaps: number };
  models: ModelView[];
}

/** POST /api/models/{id}/load and /unload. */
export interface ModelActionResult {
  model: string;
  action: string;
  status: string;
  durationMs: number;
}

/** POST /api/models/unload */
export interface UnloadAllResult {
  unloaded: boolean;
  models: { id: string; status: string }[];
}

export interface LogLine {
  at: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export class ServerClient {
  private readonly client: Client;
  private readonly basePath: string;

  constructor(
    /** Base URL without a trailing slash. */
    readonly url: string,
    private readonly apiKey: string | undefined,
  ) {
    const parsed = new URL(url);
    this.basePath = parsed.pathname.replace(/\/+$/, '');
    this.client = new Client(parsed.origin, { headersTimeout: 0, bodyTimeout: 0 });
  }

  /** GET /api/models: the raw JSON (for --json) and its typed view. */
  async models(): Promise<{ raw: unknown; view: ModelsView }> {
    const raw = await this.json('GET', '/api/models');
    if (!isModelsView(raw)) throw new NotSwapdockError(this.url, 'GET /api/models has no model list');
    return { raw, view: raw };
  }

  /** The model a name means: an id, else an alias. */
  async resolve(name: string): Promise<{ models: ModelsView; model: ModelView }> {
    const { view } = await this.models();
    const model = view.models.find((m) => m.id === name) ?? view.models.find((m) => m.aliases.includes(name));
    if (!model) throw new UnknownModelError(this.url, name, view.models);
    return { models: view, model };
  }

  load(id: string): Promise<ModelActionResult> {
    return this.json('POST', `/api/models/${modelPath(id)}/load`) as Promise<ModelActionResult>;
  }

  unload(id: string, force: boolean): Promise<ModelActionResult> {
    return this.json('POST', `/api/models/${modelPath(id)}/unload${force ? '?force=true' : ''}`) as Promise<ModelActionResult>;
  }

  unloadAll(force: boolean): Promise<UnloadAllResult> {
    return this.json('POST', `/api/models/unload${force ? '?force=true' : ''}`) as Promise<UnloadAllResult>;
  }

  /** The lines swapdock keeps of a model's container output, oldest first. */
  async logHistory(id: string): Promise<LogLine[]> {
    const body = (await this.json('GET', `/api/logs/${modelPath(id)}?follow=false`)) as { lines?: LogLine[] };
    if (!Array.isArray(body.lines)) throw new NotSwapdockError(this.url, 'GET /api/logs/{model} has no lines');
    return body.lines;
  }

  /**
   * The history, then every new line, until `signal` aborts ('stopped') or swapdock ends the
   * stream ('ended', e.g. it shut down).
   */
  async followLogs(id: string, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<'stopped' | 'ended'> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.send('GET', `/api/logs/${modelPath(id)}`, signal);
    } catch (err) {
      if (signal.aborted) return 'stopped';
      throw err;
    }
    if (!String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      await res.body.dump();
      throw new NotSwapdockError(this.url, 'GET /api/logs/{model} is no event stream');
    }
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === 'log') onLine(JSON.parse(event.data) as LogLine);
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (err) {
      if (signal.aborted) return 'stopped';
      throw new ConnectionLostError(this.url, reasonOf(err));
    }
    return signal.aborted ? 'stopped' : 'ended';
  }

  async close(): Promise<void> {
    await this.client.destroy();
  }

  private async json(method: 'GET' | 'POST', path: string): Promise<unknown> {
    const res = await this.send(method, path);
    return parseJson(await res.body.text(), this.url, `${method} ${path}`);
  }

  /** The answer to a request, when it is a success; every other outcome as a ClientError. */
  private async send(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.client.request({ method, path: `${this.basePath}${path}`, headers, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ServerUnreachableError(this.url, reasonOf(err));
    }
    if (res.statusCode < 400) return res;
    const text = await res.body.text().catch(() => '');
    if (res.statusCode === 401 || res.statusCode === 403) throw new ServerAuthError(this.url, res.statusCode, Boolean(this.apiKey));
    const error = errorOf(text);
    if (!error) throw new NotSwapdockError(this.url, `${method} ${path} answered ${res.statusCode} without a swapdock error`);
    throw new ServerRequestError(res.statusCode, error.code, error.message);
  }
}

/** Ids may contain '/': each segment is escaped, the slashes stay (as the routes expect). */
function modelPath(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

function parseJson(text: string, url: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new NotSwapdockError(url, `${what} did not answer with JSON`);
  }
}

/** `{"error": {"message", "code"}}`, swapdock's error shape; undefined for anything else. */
function errorOf(text: string): { message: string; code?: string } | undefined {
  try {
    const error = (JSON.parse(text) as { error?: { message?: unknown; code?: unknown } }).error;
    if (typeof error?.message !== 'string') return undefined;
    return { message: error.message, code: typeof error.code === 'string' ? error.code : undefined };
  } catch {
    return undefined;
  }
}

function isModelsView(value: unknown): value is ModelsView {
  return typeof value === 'object' && value !== null && Array.isArray((value as { models?: unknown }).models);
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  UND_ERR_SOCKET: 'the connection was closed',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
};

/** A transport error in a few words (connection refused, unknown host, …). */
function reasonOf(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[]; cause?: { code?: string } };
  const code = e.code ?? e.errors?.[0]?.code ?? e.cause?.code;
  return (code && REASONS[code]) ?? e.message ?? String(err);
}
