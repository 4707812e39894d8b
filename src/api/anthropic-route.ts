// The Anthropic Messages API: POST /v1/messages and /v1/messages/count_tokens on the Node server.
// A backend that speaks Anthropic (`api: anthropic | both`) gets the request as it came; one that
// speaks only OpenAI gets it translated to /v1/chat/completions, and its answer (JSON or SSE
// stream) is translated back as it arrives (anthropic-sink.ts). Both go through
// InferenceProxy.forward(), so queueing, loading heartbeats, leases, aliases, upstreamModel and
// params apply as for any inference request. Errors are always Anthropic-shaped.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import { BadRequestError, errorMessage } from '../errors.js';
import { parseJsonBody, type InferenceProxy, type JsonBody, type UpstreamControl, type UpstreamSink } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import { checkAnthropicRequest, renderedText, toOpenAIChat, wantsThinking } from '../proxy/anthropic/translate-request.js';
import { logDroppedOnce } from '../proxy/anthropic/dropped-log.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { AnthropicSink } from './anthropic-sink.js';
import { renderError } from './error-response.js';
import { readNodeBody } from './read-body.js';
import { trackProxiedRequest } from './request-log.js';

export const MESSAGES_PATH = '/v1/messages';
export const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';
export const ANTHROPIC_PATHS: readonly string[] = [MESSAGES_PATH, COUNT_TOKENS_PATH];

export interface AnthropicRouteDeps {
  proxy: InferenceProxy;
  resolver: ModelResolver;
  scheduler: Scheduler;
  log: Logger;
  heartbeatMs: () => number;
  maxBodyBytes: () => number;
}

/** How long count_tokens waits for a backend's /tokenize before it estimates instead. */
const TOKENIZE_TIMEOUT_MS = 5000;

export async function handleAnthropic(req: IncomingMessage, res: ServerResponse, path: string, deps: AnthropicRouteDeps): Promise<void> {
  const tracked = trackProxiedRequest(req, res, deps.log, deps.scheduler.events);
  const { requestId, abort } = tracked;
  let sink: AnthropicSink | undefined;
  try {
    const raw = await readNodeBody(req, deps.maxBodyBytes());
    const body = parseJsonBody(raw, '"model", "max_tokens" and "messages"');
    const { model } = deps.resolver.resolveForRequest(body.model);
    deps.proxy.checkAccess(req.headers, model); // 403 for a model the API key may not use (count_tokens too)
    tracked.model = model.id;
    if (path === COUNT_TOKENS_PATH) return await countTokens(req, res, raw, body, model, requestId, abort.signal, deps);
    const request = checkAnthropicRequest(body, { requireMaxTokens: true });
    const passthrough = model.api !== 'openai';
    sink = new AnthropicSink(res, requestId, { mode: passthrough ? 'passthrough' : 'translate', requestedModel: body.model, stopSequences: request.stop_sequences, thinking: wantsThinking(request) }, tracked.meter);
    tracked.sink = sink;
    const onStreamWait = (m: ModelConfig) => sink!.beginWaiting(m, deps.heartbeatMs());
    if (passthrough) {
      await deps.proxy.forward({ method: 'POST', path: req.url ?? path, headers: req.headers, body: raw, parsed: body, signal: abort.signal, onStreamWait }, sink);
    } else {
      const chat = toOpenAIChat(request, model.id, (what) => logDroppedOnce(deps.log, what)) as JsonBody; // names model.id
      const translated = Buffer.from(stringifyTranslated(chat));
      await deps.proxy.forward({ method: 'POST', path: '/v1/chat/completions', headers: translationHeaders(req), body: translated, parsed: chat, signal: abort.signal, onStreamWait }, sink);
    }
  } catch (err) {
    if (abort.signal.aborted) return; // nobody left to tell
    if (sink?.answeredEarly) {
      deps.log.warn({ requestId, err: errorMessage(err) }, 'Request failed after its stream began; sent as an error event');
      return sink.failEarly(err);
    }
    if (res.headersSent) return;
    const rendered = renderError(deps.proxy.hideUnusable(err, req.headers), 'anthropic');
    if (rendered.status >= 500) deps.log.warn({ requestId, err: errorMessage(err) }, 'Request failed');
    res.writeHead(rendered.status, { ...rendered.headers, 'x-request-id': requestId }).end(rendered.body);
  }
}

/** JSON.stringify recurses: a body nested thousands of levels deep is the client's error, not ours. */
function stringifyTranslated(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    throw new BadRequestError(`The request could not be translated for the backend (${errorMessage(err)}): it is nested too deeply. Send a flatter JSON object.`, 'invalid_body');
  }
}

/**
 * Headers for a translated request: as the client sent them (an auth check reads them), except
 * that the answer must come back uncompressed for swapdock to translate it.
 */
function translationHeaders(req: IncomingMessage): IncomingMessage['headers'] {
  const headers = { ...req.headers, 'content-type': 'application/json' };
  delete headers['accept-encoding'];
  return headers;
}

/**
 * count_tokens never loads a model. A ready Anthropic backend counts itself; a ready OpenAI one is
 * asked through its /tokenize (llama.cpp, vLLM); otherwise — or if that fails — the answer is an
 * estimate of one token per four characters of the rendered request.
 */
async function countTokens(req: IncomingMessage, res: ServerResponse, raw: Buffer, body: Record<string, unknown>, model: ModelConfig, requestId: string, signal: AbortSignal, deps: AnthropicRouteDeps): Promise<void> {
  const request = checkAnthropicRequest(body);
  const ready = deps.scheduler.snapshotOf(model.id)?.status === 'ready';
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(TOKENIZE_TIMEOUT_MS)]);
  if (ready && model.api !== 'openai') {
    const answer = await collect(deps.proxy, { path: req.url ?? COUNT_TOKENS_PATH, headers: req.headers, body: raw, signal: timeout }).catch(() => undefined);
    if (answer && answer.statusCode < 300) {
      res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'x-request-id': requestId }).end(answer.body);
      return;
    }
  }
  const text = renderedText(request);
  let count: number | undefined;
  if (ready && model.api === 'openai') {
    const payload = Buffer.from(JSON.stringify({ model: model.id, content: text, prompt: text }));
    const answer = await collect(deps.proxy, { path: '/tokenize', headers: translationHeaders(req), body: payload, signal: timeout }).catch(() => undefined);
    count = answer && answer.statusCode < 300 ? tokenCountOf(answer.body) : undefined;
  }
  count ??= estimateTokens(text);
  const json = JSON.stringify({ input_tokens: count });
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId }).end(json);
}

/** An estimate, not a count: about four characters per token for English text and code. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** llama.cpp answers {tokens: [...]}, vLLM {count, tokens}. */
function tokenCountOf(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { count?: unknown; tokens?: unknown };
    if (typeof parsed.count === 'number') return parsed.count;
    if (Array.isArray(parsed.tokens)) return parsed.tokens.length;
  } catch {
    // not a tokenizer answer
  }
  return undefined;
}

/** Sends a small request through the proxy and collects the whole answer. */
async function collect(proxy: InferenceProxy, request: { path: string; headers: IncomingMessage['headers']; body: Buffer; signal: AbortSignal }): Promise<{ statusCode: number; body: string }> {
  const sink = new CollectSink();
  await proxy.forward({ method: 'POST', ...request }, sink);
  return sink.done;
}

class CollectSink implements UpstreamSink {
  private statusCode = 0;
  private readonly chunks: Buffer[] = [];
  private settle!: { resolve: (v: { statusCode: number; body: string }) => void; reject: (err: Error) => void };
  readonly done = new Promise<{ statusCode: number; body: string }>((resolve, reject) => (this.settle = { resolve, reject }));

  onStart(_control: UpstreamControl): void {}
  onHead(_model: ModelConfig, statusCode: number): void {
    this.statusCode = statusCode;
  }
  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  onEnd(): void {
    this.settle.resolve({ statusCode: this.statusCode, body: Buffer.concat(this.chunks).toString('utf8') });
  }
  onBroken(err: Error): void {
    this.settle.reject(err);
  }
}

