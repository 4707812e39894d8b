// The Anthropic Messages API: POST /v1/messages and /v1/messages/count_tokens on the Node server.
// A backend that speaks Anthropic (`api: anthropic | both`) gets the request as it came; one that
// speaks only OpenAI gets it translated to /v1/chat/completions, and its answer (JSON or SSE
// stream) is translated back as it arrives (anthropic-sink.ts). Both go through
// InferenceProxy.forward(), so queueing, loading heartbeats, leases, aliases, upstreamModel and
// params apply as for any inference request. Errors are always Anthropic-shaped.
import type { IncomingMessage } from 'node:http';
import type { Context, Handler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/schema.js';
import type { AppEnv } from './app-env.js';
import { attachSink } from './proxied.js';
import { parseJsonBody, type InferenceProxy, type JsonBody, type UpstreamControl, type UpstreamSink } from '../proxy/inference-proxy.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import { checkAnthropicRequest, renderedText, toOpenAIChat, wantsThinking } from '../proxy/anthropic/translate-request.js';
import { logDroppedOnce } from '../proxy/anthropic/dropped-log.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { AnthropicSink } from './anthropic-sink.js';
import { readNodeBody } from './read-body.js';
import { stringifyTranslated, translationHeaders } from './translated-request.js';

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

/** Reads and parses the body, resolves its model and checks the API key may use it (403 before anything starts). */
async function readRequest(c: Context<AppEnv>, deps: AnthropicRouteDeps, wants: string) {
  const req = c.env.incoming;
  const raw = await readNodeBody(req, deps.maxBodyBytes());
  const body = parseJsonBody(raw, wants);
  const { model } = deps.resolver.resolveForRequest(body.model);
  deps.proxy.checkAccess(req.headers, model);
  c.var.tracked.model = model.id;
  return { req, raw, body, model, tracked: c.var.tracked };
}

/** POST /v1/messages. */
export function messagesHandler(deps: AnthropicRouteDeps): Handler<AppEnv> {
  return async function forwardMessages(c) {
    const { req, raw, body, model, tracked } = await readRequest(c, deps, '"model", "max_tokens" and "messages"');
    const request = checkAnthropicRequest(body, { requireMaxTokens: true });
    const passthrough = model.api !== 'openai';
    const options = { mode: passthrough ? 'passthrough' : 'translate', requestedModel: body.model, stopSequences: request.stop_sequences, thinking: wantsThinking(request) } as const;
    const sink = attachSink(tracked, new AnthropicSink(c.env.outgoing!, tracked.requestId, options, tracked.meter), deps.log);
    const onStreamWait = (m: ModelConfig) => sink.beginWaiting(m, deps.heartbeatMs());
    const signal = tracked.abort;
    if (passthrough) {
      await deps.proxy.forward({ method: 'POST', path: req.url ?? '/v1/messages', headers: req.headers, body: raw, parsed: body, signal, onStreamWait }, sink);
    } else {
      const chat = toOpenAIChat(request, model.id, (what) => logDroppedOnce(deps.log, what)) as JsonBody; // names model.id
      const translated = Buffer.from(stringifyTranslated(chat));
      await deps.proxy.forward({ method: 'POST', path: '/v1/chat/completions', headers: translationHeaders(req), body: translated, parsed: chat, signal, onStreamWait }, sink);
    }
    return RESPONSE_ALREADY_SENT;
  };
}

/** POST /v1/messages/count_tokens. */
export function countTokensHandler(deps: AnthropicRouteDeps): Handler<AppEnv> {
  return async function countMessageTokens(c) {
    const { req, raw, body, model, tracked } = await readRequest(c, deps, '"model" and "messages"');
    const count = await countTokens(req, raw, body, model, tracked.abort.signal, deps);
    c.header('x-request-id', tracked.requestId);
    return 'raw' in count ? c.body(count.raw, count.status, { 'content-type': 'application/json' }) : c.json({ input_tokens: count.tokens });
  };
}

/**
 * count_tokens never loads a model. A ready Anthropic backend counts itself; a ready OpenAI one is
 * asked through its /tokenize (llama.cpp, vLLM); otherwise — or if that fails — the answer is an
 * estimate of one token per four characters of the rendered request.
 */
async function countTokens(req: IncomingMessage, raw: Buffer, body: Record<string, unknown>, model: ModelConfig, signal: AbortSignal, deps: AnthropicRouteDeps): Promise<{ raw: string; status: 200 } | { tokens: number }> {
  const request = checkAnthropicRequest(body);
  const ready = deps.scheduler.snapshotOf(model.id)?.status === 'ready';
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(TOKENIZE_TIMEOUT_MS)]);
  if (ready && model.api !== 'openai') {
    const answer = await collect(deps.proxy, { path: req.url ?? '/v1/messages/count_tokens', headers: req.headers, body: raw, signal: timeout }).catch(() => undefined);
    if (answer && answer.statusCode < 300) return { raw: answer.body, status: 200 };
  }
  const text = renderedText(request);
  let count: number | undefined;
  if (ready && model.api === 'openai') {
    const payload = Buffer.from(JSON.stringify({ model: model.id, content: text, prompt: text }));
    const answer = await collect(deps.proxy, { path: '/tokenize', headers: translationHeaders(req), body: payload, signal: timeout }).catch(() => undefined);
    count = answer && answer.statusCode < 300 ? tokenCountOf(answer.body) : undefined;
  }
  return { tokens: count ?? estimateTokens(text) };
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

