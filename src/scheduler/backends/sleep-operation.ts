// One sleep, wake or status operation against a model server, and the HTTP calls it makes.
// All calls of an operation share one deadline (sleep.timeoutMs) and the caller's AbortSignal,
// so a wake of three calls cannot take three timeouts. Each operation has its own undici Client,
// destroyed when it ends: sleeps and wakes are seconds apart, so nothing is worth keeping, and no
// socket or timer outlives an operation (undici's global pool kept an idle socket after an abort).
// A call that gets no answer becomes a SleepCallError saying which call, where and why; a
// cancellation by the caller rejects with the caller's own reason, as everywhere in swapdock.

import type { Dispatcher } from 'undici';
import { Client } from '../../util/undici-core.js';
import type { Endpoint } from '../../runtime/container-runtime.js';
import { errorMessage } from '../../errors.js';
import { SleepCallError, type SleepPhase } from './sleep-call-error.js';

export interface SleepRequest {
  method: string;
  /** Path and query, e.g. `/sleep?level=2`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as a JSON body. */
  json?: unknown;
}

export interface SleepAnswer {
  statusCode: number;
  text: string;
}

export interface SleepOperationOptions {
  /** The kind of server in messages: `vLLM`, `tabbyAPI`, `HTTP`. */
  server: string;
  phase: SleepPhase;
  endpoint: Endpoint;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What to check when a call answers this status, if the kind knows. */
  hintFor?: (statusCode: number, call: SleepRequest) => string | undefined;
}

/** Larger answers are cut here: the sleep calls answer a few bytes of JSON at most. */
const MAX_BODY_BYTES = 1 << 20;
/** setTimeout fires at once beyond this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs `fn` as one operation: its calls share the deadline and the caller's signal. */
export async function runSleepOperation<T>(options: SleepOperationOptions, fn: (op: SleepOperation) => Promise<T>): Promise<T> {
  options.signal?.throwIfAborted();
  const op = new SleepOperation(options);
  try {
    return await fn(op);
  } finally {
    await op.dispose();
  }
}

export class SleepOperation {
  private readonly controller = new AbortController();
  private readonly client: Client;
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort: () => void;
  private timedOut = false;

  constructor(private readonly options: SleepOperationOptions) {
    this.client = new Client(`http://${this.address}`, { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`timed out after ${options.timeoutMs} ms`));
    }, Math.min(Math.max(options.timeoutMs, 1), MAX_TIMER_MS));
    this.onCallerAbort = () => this.controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get address(): string {
    const { host, port } = this.options.endpoint;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async dispose(): Promise<void> {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
    await this.client.destroy().catch(() => {});
  }

  /** Sends a call and reads its whole answer, whatever its status. */
  async send(call: SleepRequest): Promise<SleepAnswer> {
    return this.read(call, await this.open(call));
  }

  /** Reads the whole answer of a call opened with `open`. */
  async read(call: SleepRequest, res: Dispatcher.ResponseData): Promise<SleepAnswer> {
    try {
      return { statusCode: res.statusCode, text: await readText(res.body) };
    } catch (err) {
      throw this.callFailed(call, err);
    }
  }

  /** Sends a call and reads its answer; anything but a 2xx fails the operation. */
  async expectOk(call: SleepRequest): Promise<SleepAnswer> {
    const answer = await this.send(call);
    if (!isOk(answer.statusCode)) throw this.badStatus(call, answer);
    return answer;
  }

  /** Sends a call and returns its answer unread (a stream); the caller consumes or destroys the body. */
  async open(call: SleepRequest): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...call.headers };
    let body: string | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    }
    try {
      return await this.client.request({ path: call.path, method: call.method.toUpperCase() as Dispatcher.HttpMethod, headers, body, signal: this.signal });
    } catch (err) {
      throw this.callFailed(call, err);
    }
  }

  /** The error for a call that got no (complete) answer: the caller's reason, a timeout, or the network error. */
  callFailed(call: SleepRequest, err: unknown): unknown {
    if (this.options.signal?.aborted) return this.options.signal.reason;
    if (this.timedOut) {
      return this.fail(call, `timed out after ${this.options.timeoutMs} ms (sleep.timeoutMs bounds the whole ${this.options.phase})`, { timedOut: true });
    }
    const code = (err as { code?: unknown })?.code;
    const message = errorMessage(err);
    return this.fail(call, typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
  }

  /** The error for an answer with a status that is not 2xx. */
  badStatus(call: SleepRequest, answer: SleepAnswer, problem = `HTTP ${answer.statusCode}`): SleepCallError {
    return this.fail(call, problem, { statusCode: answer.statusCode, body: answer.text, hint: this.options.hintFor?.(answer.statusCode, call) });
  }

  fail(call: SleepRequest, problem: string, extra: { statusCode?: number; body?: string; hint?: string; timedOut?: boolean } = {}): SleepCallError {
    return new SleepCallError({
      phase: this.options.phase,
      server: this.options.server,
      call: `${call.method.toUpperCase()} ${call.path}`,
      address: this.address,
      problem,
      ...extra,
    });
  }
}

export function isOk(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 300;
}

/** The JSON value of a text, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The path of a call without its query: what a passthrough compares against. */
export function pathOnly(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

async function readText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early destroys the body.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
