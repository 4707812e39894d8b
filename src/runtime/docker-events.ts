// The events half of the engine adapter: ContainerRuntime.watch over the Docker Engine API
// (Docker, and Podman's compat API). With docker-runtime.ts this is the only file that reads
// raw engine JSON: it reads the `/events` stream. Engine quirks handled here:
// - one JSON object per line, but a chunk can hold several lines or half of one;
// - Docker: `oom` comes before `die` on an OOM kill, `destroy` on removal;
// - Podman: no `oom` (exit 137 is the only hint), `remove` instead of `destroy`, and its event
//   filter only matches a death as `died` (it still reports the event as `die`);
// - when the engine stops the stream ends: reconnect with `since` and dedupe the replay.

import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ContainerEvent, ContainerInfo, ContainerRuntime, EngineInfo, EventSubscription } from './container-runtime.js';
import { errorMessage } from '../errors.js';
import { CONTAINER_PORT_LABEL } from './docker-create-body.js';

type WatchHandlers = Parameters<ContainerRuntime['watch']>[1];

// Raw event JSON: only the fields read here.
interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  time?: number;
  timeNano?: number;
}

/** `died` is Podman's name for `die` in filters; `oom` comes from Docker only. */
export const WATCHED_ACTIONS = ['die', 'died', 'oom', 'destroy', 'remove'];
/** Attributes the engines put next to the labels in container events. */
const NON_LABEL_ATTRIBUTES = new Set(['image', 'name', 'exitCode', 'containerExitCode', 'podId', 'signal', CONTAINER_PORT_LABEL]);
const SEEN_MAX = 512;
const MAX_PARTIAL_LINE = 1 << 20;

export const WATCH_BACKOFF = { initialMs: 250, maxMs: 5_000 };

export interface EngineEventState {
  engine: EngineInfo['kind'];
  labels: Record<string, string>;
  /** Containers that reported `oom` and have not died yet. */
  oom: Set<string>;
  /** Keys of recent events (insertion-ordered, bounded): a replay after reconnecting is not delivered twice. */
  seen: Set<string>;
  /** Unix seconds of the newest event: `since` of the next connection. */
  lastTime?: number;
}

export function newEngineEventState(engine: EngineInfo['kind'], labels: Record<string, string>): EngineEventState {
  return { engine, labels, oom: new Set(), seen: new Set() };
}

/**
 * Translates raw `/events` lines (one JSON object each; blank or broken lines are skipped) into
 * ContainerEvents of containers carrying all `state.labels`. Pure apart from updating `state`.
 */
export function parseEngineEvents(lines: Iterable<string>, state: EngineEventState): ContainerEvent[] {
  const out: ContainerEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      continue;
    }
    if (!raw || typeof raw !== 'object') continue;
    const action = raw.Action ?? raw.status;
    const id = raw.Actor?.ID ?? raw.id;
    if ((raw.Type ?? 'container') !== 'container' || !action || !id) continue;
    const attrs = raw.Actor?.Attributes ?? {};
    if (!Object.entries(state.labels).every(([k, v]) => attrs[k] === v)) continue;
    const nano = typeof raw.timeNano === 'number' ? raw.timeNano : typeof raw.time === 'number' ? raw.time * 1e9 : undefined;
    const key = `${action} ${id} ${nano ?? line}`;
    if (state.seen.has(key)) continue;
    state.seen.add(key);
    if (state.seen.size > SEEN_MAX) state.seen.delete(state.seen.values().next().value!);
    if (nano !== undefined) state.lastTime = Math.max(state.lastTime ?? 0, Math.floor(nano / 1e9));
    const at = nano !== undefined ? Math.floor(nano / 1e6) : Date.now();
    const labels = Object.fromEntries(Object.entries(attrs).filter(([k]) => !NON_LABEL_ATTRIBUTES.has(k)));
    if (action === 'oom') {
      state.oom.add(id);
    } else if (action === 'die' || action === 'died') {
      const event: ContainerEvent = { kind: 'died', containerId: id, labels, at };
      const code = Number(attrs.exitCode);
      if (attrs.exitCode !== undefined && attrs.exitCode !== '' && Number.isInteger(code)) event.exitCode = code;
      // Docker always sends `oom` first; Podman never does, so there only a `true` is known.
      if (state.oom.delete(id)) event.oomKilled = true;
      else if (state.engine === 'docker') event.oomKilled = false;
      out.push(event);
    } else if (action === 'destroy' || action === 'remove') {
      state.oom.delete(id);
      out.push({ kind: 'removed', containerId: id, labels, at });
    }
  }
  return out;
}

/** What the watch needs from DockerRuntime. */
export interface EventSource {
  docker: Docker;
  log?: Logger;
  engineKind(): Promise<EngineInfo['kind']>;
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** Turns a failed call into the runtime's typed error. */
  wrap(err: unknown): Error;
  /** EngineUnavailableError for `reason`. */
  unreachable(reason: string): Error;
}

export function watchEngineEvents(src: EventSource, labels: Record<string, string>, handlers: WatchHandlers): EventSubscription {
  let closed = false;
  let state: EngineEventState | undefined;
  let stream: IncomingMessage | undefined;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = WATCH_BACKOFF.initialMs;
  let down = false; // between onDisconnect and onReconnect
  let connectedAt = 0;
  // Until an event arrives, `since` is when watch was called: nothing between it and the first connection is lost.
  let startSince = Math.floor(Date.now() / 1000);
  let delivery = Promise.resolve();

  const call = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      src.log?.error({ err: errorMessage(err) }, `Container event handler ${what} threw`);
    }
  };

  const deliver = (events: ContainerEvent[]) => {
    for (const e of events) {
      delivery = delivery.then(async () => {
        if (closed) return;
        if (state?.engine === 'podman' && e.kind === 'died' && e.exitCode === 137 && e.oomKilled === undefined) {
          // Podman's State.OOMKilled is set on some hosts (not all): only a `true` tells something.
          if ((await withTimeout(src.inspect(e.containerId), 1_000))?.oomKilled) e.oomKilled = true;
        }
        if (!closed) call('onEvent', () => handlers.onEvent(e));
      });
    }
  };

  const lost = (err: Error) => {
    if (closed) return;
    if (!down) {
      down = true;
      src.log?.warn({ err: err.message }, 'Lost the container event stream; reconnecting');
      call('onDisconnect', () => handlers.onDisconnect?.(err));
    }
    // A connection that held a while ends a flapping series: start the backoff over.
    if (connectedAt && Date.now() - connectedAt >= WATCH_BACKOFF.maxMs) delayMs = WATCH_BACKOFF.initialMs;
    connectedAt = 0;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delayMs);
    delayMs = Math.min(delayMs * 2, WATCH_BACKOFF.maxMs);
  };

  const consume = (s: IncomingMessage) => {
    let partial = '';
    s.setEncoding('utf8'); // decodes multi-byte characters split across chunks
    s.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_PARTIAL_LINE) partial = '';
      if (state && lines.length) deliver(parseEngineEvents(lines, state));
    });
    const ended = (err?: Error) => {
      if (stream !== s) return;
      stream = undefined;
      if (state && partial) deliver(parseEngineEvents([partial], state));
      lost(src.unreachable(err ? `the event stream broke: ${err.message}` : 'the event stream ended'));
    };
    s.on('error', ended);
    s.on('end', () => ended());
    s.on('close', () => ended());
  };

  const connect = async () => {
    if (closed) return;
    const ac = (abort = new AbortController());
    try {
      state ??= newEngineEventState(await src.engineKind(), labels);
      if (closed) return;
      const opts: Docker.GetEventsOptions & { abortSignal: AbortSignal } = {
        filters: { type: ['container'], event: WATCHED_ACTIONS, label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
        since: state.lastTime ?? startSince,
        abortSignal: ac.signal,
      };
      const s = (await src.docker.getEvents(opts)) as IncomingMessage;
      if (closed) {
        s.destroy();
        return;
      }
      // The engine's clock, when it says: `since` must not lie in the engine's future.
      const engineNow = Date.parse(s.headers?.date ?? '');
      if (state.lastTime === undefined && Number.isFinite(engineNow)) startSince = Math.min(startSince, Math.floor(engineNow / 1000));
      stream = s;
      connectedAt = Date.now();
      consume(s);
      if (down) {
        down = false;
        src.log?.info('Container event stream reconnected');
        call('onReconnect', () => handlers.onReconnect?.());
      }
    } catch (err) {
      if (!closed) lost(src.wrap(err));
    }
  };

  void connect();
  return {
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      abort?.abort();
      stream?.destroy();
      stream = undefined;
    },
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms).unref()))]);
  } finally {
    clearTimeout(timer);
  }
}
