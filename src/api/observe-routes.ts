// Observation endpoints under /api: the live event stream (GET /api/events; with ?history=true
// the recent activity first), each model's container output (GET /api/logs/{model}), swapdock's
// own log (GET /api/logs), the recent proxied requests (GET /api/requests) and what each GPU did
// over the last hour (GET /api/timeline). Streams are SSE: history first, then live; listeners
// are removed when the client goes away.
import type { Context, Handler } from 'hono';
import { ModelNotFoundError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { RequestEvent, SchedulerEventMap } from '../scheduler/scheduler-events.js';
import type { LogTail } from '../util/log-tail.js';
import { RingBuffer } from '../util/ring-buffer.js';
import { ActivityHistory } from './activity-history.js';
import { describeModels } from './admin-routes.js';
import type { AppEnv } from './app-env.js';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { writeSse, type CoalesceKey, type SseSend } from './sse-response.js';

/** The request events /api/requests returns. */
export const RECENT_REQUESTS = 200;
/** What /api/events forwards (container output has its own endpoint); `engine`: an engine of a pool went away or came back. */
const STREAMED_EVENTS = ['model', 'queue', 'load', 'request', 'swap', 'engine'] as const satisfies readonly (keyof SchedulerEventMap)[];

export interface ObserveDeps {
  scheduler: Scheduler;
  /** swapdock's own recent log lines; absent: /api/logs is empty. */
  logTail?: LogTail;
  /** SSE comment interval; default 15 s. */
  heartbeatMs?: number;
}

/** The observation endpoints' handlers; routes.ts says where each one is served. */
export function observeHandlers(deps: ObserveDeps) {
  const { scheduler } = deps;
  const recentRequests = new RingBuffer<RequestEvent>(RECENT_REQUESTS);
  scheduler.events.on('request', (event) => recentRequests.push(event));
  const activity = new ActivityHistory(scheduler.events);
  /** Streams SSE into the Node response; the request's abort (client gone) ends it. */
  const sse = (c: Context<AppEnv>, subscribe: (send: SseSend) => () => void, coalesceKey?: CoalesceKey) => {
    writeSse(c.env.outgoing!, c.var.tracked.abort.signal, subscribe, { heartbeatMs: deps.heartbeatMs, coalesceKey });
    return RESPONSE_ALREADY_SENT;
  };
  // `queue` events carry counts: of several for one model in a batch, the newest says it all.
  const queueOfModel: CoalesceKey = (event, data) => (event === 'queue' ? `queue:${(data as { model: string }).model}` : undefined);

  /** GET /api/events[?history=true] */
  const events: Handler<AppEnv> = (c) => {
    const withHistory = c.req.query('history') === 'true';
    return sse(
      c,
      (send) => {
        send('snapshot', describeModels(scheduler.currentConfig, scheduler));
        // In the same turn as subscribing below: nothing falls between the history and the live events.
        if (withHistory) send('history', { events: activity.entries() });
        const listeners = STREAMED_EVENTS.map((name) => {
          const listener = (event: unknown) => send(name, event);
          scheduler.events.on(name, listener);
          return () => scheduler.events.off(name, listener);
        });
        return () => listeners.forEach((off) => off());
      },
      queueOfModel,
    );
  };

  /** GET /api/requests */
  const requests: Handler<AppEnv> = (c) => c.json({ requests: recentRequests.toArray() });

  /** GET /api/logs: swapdock's own log */
  const ownLog: Handler<AppEnv> = (c) => {
    const tail = deps.logTail;
    if (c.req.query('follow') === 'false') return c.json({ lines: tail?.history() ?? [] });
    return sse(
      c,
      (send) => {
        for (const entry of tail?.history() ?? []) send('log', entry);
        if (!tail) return () => undefined;
        const listener = (entry: unknown) => send('log', entry);
        tail.on('line', listener);
        return () => tail.off('line', listener);
      },
    );
  };

  /** GET /api/logs/{model}: a model's container output */
  const modelLog: Handler<AppEnv> = (c) => {
    const model = c.req.param('model')!;
    if (!scheduler.snapshotOf(model)) throw new ModelNotFoundError(model, scheduler.snapshot().map((s) => s.id));
    const history = () => scheduler.observer.logs.history(model);
    if (c.req.query('follow') === 'false') return c.json({ model, lines: history() });
    return sse(
      c,
      (send) => {
        for (const line of history()) send('log', line);
        const listener = (event: SchedulerEventMap['log'][0]) => {
          if (event.model === model) send('log', { at: event.at, stream: event.stream, line: event.line });
        };
        scheduler.events.on('log', listener);
        return () => scheduler.events.off('log', listener);
      },
    );
  };

  /** GET /api/timeline: with a pool of several engines, each lane is one engine's. */
  const timeline: Handler<AppEnv> = (c) => c.json(scheduler.timeline.view(scheduler.engineStates().map((e) => ({ name: e.name, gpuIds: e.gpus?.map((g) => g.id) }))));

  return { events, requests, ownLog, modelLog, timeline };
}
