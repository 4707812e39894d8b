// THE routing table: every route swapdock answers, with its method, path, who may call it
// (public, key, admin) and the dialect of its errors. create-app.ts puts the same middleware chain
// (request tracking, CORS, key gate) in front of each. No other file matches paths.
import type { Context, Handler } from 'hono';
import type { SwapdockConfig } from '../config/schema.js';
import { ModelNotFoundError, RouteNotFoundError } from '../errors.js';
import type { AppDeps } from './create-app.js';
import type { AppEnv, RouteSpec } from './app-env.js';
import type { ErrorDialect } from './error-response.js';
import { adminHandlers } from './admin-routes.js';
import { countTokensHandler, messagesHandler } from './anthropic-route.js';
import { requestKey } from './auth-gate.js';
import { inferenceHandler } from './inference-route.js';
import { metricsHandler } from './metrics-route.js';
import { ModelListCache } from './model-list.js';
import { multipartHandler } from './multipart-route.js';
import { observeHandlers } from './observe-routes.js';
import { propsHandler } from './props-route.js';
import { responsesHandler } from './responses-route.js';
import { uiLoginHandlers } from './ui-login.js';
import { uiHandlers } from './ui-route.js';
import { upstreamHandler } from './upstream-route.js';

/** POST routes whose JSON body names the model, forwarded to that model's container. */
export const INFERENCE_PATHS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/rerank',
  '/v1/audio/speech',
  '/v1/images/generations',
  // llama.cpp server's native API, routed by the `model` field like the rest.
  '/completion',
  '/infill',
  '/tokenize',
  '/detokenize',
  '/props', // POST with a JSON body naming the model; GET /props?model= below
] as const;

/** POST routes whose body is multipart/form-data with a `model` field. */
export const MULTIPART_PATHS = ['/v1/audio/transcriptions', '/v1/audio/translations', '/v1/images/edits', '/v1/images/variations'] as const;

export const ANTHROPIC_PATHS = ['/v1/messages', '/v1/messages/count_tokens'] as const;

const JSON_TYPE = { 'content-type': 'application/json' };

const metricsAccess = (config: SwapdockConfig) => (config.metrics.public ? 'public' : 'admin');

export function routeTable(deps: AppDeps): RouteSpec[] {
  const { scheduler, proxy, resolver, log } = deps;
  const heartbeatMs = () => scheduler.currentConfig.queue.heartbeatMs;
  const maxBodyBytes = () => scheduler.currentConfig.limits.maxBodyBytes;
  const admin = adminHandlers(deps);
  const observe = observeHandlers({ scheduler, logTail: deps.logTail });
  const ui = uiHandlers();
  const login = uiLoginHandlers(deps);
  const inference = inferenceHandler({ proxy, log, heartbeatMs, maxBodyBytes });
  const responses = responsesHandler({ proxy, resolver, log, heartbeatMs, maxBodyBytes }); // by the model's `responses`: passed through or translated
  const multipart = multipartHandler({ proxy, resolver, log, maxBodyBytes });
  const upstream = { proxy, resolver, scheduler, log, access: deps.access };
  const anthropic = { proxy, resolver, scheduler, log, heartbeatMs, maxBodyBytes };
  const models = new ModelListCache(scheduler);
  const notFound: Handler<AppEnv> = (c) => {
    throw new RouteNotFoundError(c.req.method, c.req.path);
  };

  return [
    { method: 'GET', path: '/health', access: 'public', dialect: 'openai', quiet: true, handler: (c) => c.json({ status: 'ok', version: deps.version }) },

    // OpenAI: model list, inference, uploads
    // The models the request's API key may use (all of them without keys).
    { method: 'GET', path: '/v1/models', access: 'key', dialect: 'openai', handler: (c) => c.body(models.json(scheduler.currentConfig, keyOf(deps, c.env.incoming.headers)), 200, JSON_TYPE) },
    { method: 'GET', path: '/v1/models/:id{.+}', access: 'key', dialect: 'openai', handler: (c) => c.json(describeModel(models, deps, c.env.incoming.headers, c.req.param('id')!)) },
    ...INFERENCE_PATHS.map((path): RouteSpec => ({ method: 'POST', path, access: 'key', dialect: 'openai', proxied: true, handler: path === '/v1/responses' ? responses : inference })),
    ...MULTIPART_PATHS.map((path): RouteSpec => ({ method: 'POST', path, access: 'key', dialect: 'openai', proxied: true, handler: multipart })),

    // Anthropic
    { method: 'POST', path: '/v1/messages', access: 'key', dialect: 'anthropic', proxied: true, handler: messagesHandler(anthropic) },
    { method: 'POST', path: '/v1/messages/count_tokens', access: 'key', dialect: 'anthropic', handler: countTokensHandler(anthropic) },

    // Backend-native: llama.cpp's properties, and anything under /upstream/{model}/ (WebSockets too)
    { method: 'GET', path: '/props', access: 'key', dialect: 'openai', proxied: true, handler: propsHandler(upstream) },
    { method: 'ALL', path: '/upstream/*', access: 'key', dialect: 'openai', proxied: true, upgrade: true, handler: upstreamHandler(upstream) },

    // Admin API
    { method: 'GET', path: '/api/models', access: 'admin', dialect: 'openai', handler: admin.listModels },
    { method: 'POST', path: '/api/models/unload', access: 'admin', dialect: 'openai', handler: admin.unloadAll },
    // POST /api/models/{id}/load, …/unload, …/sleep (see modelActionHandler)
    { method: 'POST', path: '/api/models/*', access: 'admin', dialect: 'openai', handler: modelActionHandler({ load: admin.loadModel, unload: admin.unloadModel, sleep: admin.sleepModel }) },
    { method: 'POST', path: '/api/reload', access: 'admin', dialect: 'openai', handler: admin.reloadConfig },
    { method: 'GET', path: '/api/events', access: 'admin', dialect: 'openai', handler: observe.events },
    { method: 'GET', path: '/api/requests', access: 'admin', dialect: 'openai', handler: observe.requests },
    { method: 'GET', path: '/api/timeline', access: 'admin', dialect: 'openai', handler: observe.timeline },
    { method: 'GET', path: '/api/logs', access: 'admin', dialect: 'openai', handler: observe.ownLog },
    { method: 'GET', path: '/api/logs/:model{.+}', access: 'admin', dialect: 'openai', handler: observe.modelLog },
    ...(deps.metrics ? [{ method: 'GET', path: '/metrics', access: metricsAccess, dialect: 'openai', handler: metricsHandler(deps.metrics) } satisfies RouteSpec] : []),

    // Web UI
    { method: 'GET', path: '/ui/login', access: 'public', dialect: 'openai', handler: login.loginPage },
    { method: 'POST', path: '/ui/login', access: 'public', dialect: 'openai', handler: login.signIn },
    { method: 'GET', path: '/ui', access: 'admin', dialect: 'openai', browserPage: true, handler: ui.page },
    { method: 'GET', path: '/ui/', access: 'admin', dialect: 'openai', browserPage: true, handler: ui.page },
    { method: 'GET', path: '/ui/app.js', access: 'admin', dialect: 'openai', handler: ui.script },
    { method: 'GET', path: '/ui/app.css', access: 'admin', dialect: 'openai', handler: ui.style },

    // Everything else: 404 in the dialect of its family, behind the same chain (an unknown path needs a key too).
    { method: 'ALL', path: '/v1/messages/*', access: 'key', dialect: 'anthropic', handler: notFound },
    { method: 'ALL', path: '/api/*', access: 'admin', dialect: 'openai', handler: notFound },
    { method: 'ALL', path: '/ui/*', access: 'admin', dialect: 'openai', handler: notFound },
    { method: 'ALL', path: '*', access: 'key', dialect: 'openai', handler: notFound },
  ];
}

type ModelAction = (c: Context<AppEnv>, id: string) => Promise<Response>;

/**
 * POST /api/models/{id}/{action}. Model ids may contain '/', so the action is the last segment
 * and the id all before it. One wildcard route instead of a `:id{.+}/load` route per action:
 * with a `{.+}` parameter beside the static /api/models/unload, Hono's RegExpRouter (the table
 * compiled to one regular expression) refuses the table and every request — inference included —
 * is matched by the slower trie router.
 */
function modelActionHandler(actions: Record<'load' | 'unload' | 'sleep', ModelAction>): Handler<AppEnv> {
  return (c) => {
    const rest = c.req.path.slice('/api/models/'.length);
    const slash = rest.lastIndexOf('/');
    const action = slash > 0 ? actions[rest.slice(slash + 1) as keyof typeof actions] : undefined;
    if (!action || !Object.hasOwn(actions, rest.slice(slash + 1))) throw new RouteNotFoundError(c.req.method, c.req.path);
    return action(c, decodePathPart(rest.slice(0, slash)));
  };
}

/** A model id as written in the path: percent-escapes decoded (as Hono decodes a `:param`). */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function keyOf(deps: AppDeps, headers: AppEnv['Bindings']['incoming']['headers']) {
  return requestKey(deps.scheduler.currentConfig, headers as { authorization?: string; 'x-api-key'?: string });
}

function describeModel(list: ModelListCache, deps: AppDeps, headers: AppEnv['Bindings']['incoming']['headers'], name: string) {
  const visible = list.entries(deps.scheduler.currentConfig, keyOf(deps, headers));
  const entry = visible.find((m) => m.id === name);
  if (!entry) throw new ModelNotFoundError(name, visible.map((m) => m.id));
  return entry;
}

/**
 * The error dialect for a request that reaches no route: one Node's parser or the target check
 * refused. It follows the table: the Anthropic family answers in Anthropic shape.
 */
export function dialectOfTarget(target: string): ErrorDialect {
  return /^\/v1\/messages(?:[/?]|$)/.test(target) ? 'anthropic' : 'openai';
}
