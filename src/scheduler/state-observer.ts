// Turns the scheduler's bookkeeping into events (scheduler-events.ts) for metrics, /api/events
// and the web UI: every status change of a model with its cause and duration, queue changes,
// load progress, and each running container's output, kept in per-model ring buffers. The
// scheduler stays unaware of observers: ModelSlot calls this through its SlotObserver seam.
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { ModelLogBuffers } from './log-buffers.js';
import type { ObservedSlot, SlotObserver, TransitionDetail } from './slot-view.js';
import type { ModelStatus } from './model-state.js';
import type { LoadProgressEvent, LoadReason, ModelStateEvent, SchedulerEvents, UnloadReason } from './scheduler-events.js';

export interface StateObserverOptions {
  events: SchedulerEvents;
  /** The runtime of the engine a container is on. */
  runtimeOf(engine: string | undefined): ContainerRuntime;
  log: Logger;
  /** Lines kept per model (config `logs.lines`; it may change on reload). */
  logLines: () => number;
  now?: () => number;
}

export class StateObserver implements SlotObserver {
  readonly logs: ModelLogBuffers;
  private readonly events: SchedulerEvents;
  private readonly now: () => number;
  /** Per model: when its current status began, and the cause of the load or stop under way. */
  private readonly since = new Map<string, { at: number; cause?: LoadReason | UnloadReason; reason?: string }>();
  /** Per model: the log capture of its current container. */
  private readonly captures = new Map<string, { containerId: string; abort: AbortController }>();

  constructor(private readonly options: StateObserverOptions) {
    this.events = options.events;
    this.now = options.now ?? Date.now;
    this.logs = new ModelLogBuffers(options.logLines);
  }

  transitioned(slot: ObservedSlot, from: ModelStatus, to: ModelStatus, detail: TransitionDetail): void {
    const at = this.now();
    const previous = this.since.get(slot.id);
    const event: ModelStateEvent = { model: slot.id, from, to, at };
    if (slot.engine !== undefined) event.engine = slot.engine;
    let cause = detail.cause;
    let durationMs = detail.durationMs;
    if (to === 'starting') cause ??= slot.loadCause ?? (from === 'failed' ? 'restart' : slot.hasWaiters() || !slot.model.baseline ? 'request' : 'baseline');
    else if (to === 'ready' && (from === 'stopped' || from === 'failed')) cause ??= 'adopted';
    else if (to === 'ready' && from === 'starting') {
      cause ??= previous?.cause;
      if (previous) durationMs ??= at - previous.at;
    } else if (to === 'stopped' && from === 'stopping') {
      cause ??= previous?.cause;
      detail = { reason: previous?.reason && `stopped: ${previous.reason}`, ...detail };
      if (previous) durationMs ??= at - previous.at;
    } else if (to === 'failed' && from === 'ready') cause ??= 'crash';
    if (cause !== undefined) event.cause = cause;
    if (durationMs !== undefined) event.durationMs = Math.round(durationMs);
    event.reason = detail.reason ?? describe(slot.id, from, to, cause);
    if (detail.exitCode !== undefined) event.exitCode = detail.exitCode;
    if (detail.oomKilled !== undefined) event.oomKilled = detail.oomKilled;
    this.since.set(slot.id, to === 'stopping' || to === 'starting' ? { at, cause, reason: detail.reason } : { at });
    this.events.emit('model', event);
    if (to === 'ready' && slot.containerId && this.captures.get(slot.id)?.containerId !== slot.containerId) {
      // An adopted container: its earlier output, as much as the buffer holds.
      this.capture(slot.id, slot.containerId, { engine: slot.engine, tail: this.options.logLines(), status: () => 'ready' });
    }
  }

  countsChanged(slot: ObservedSlot): void {
    // The hot path: nothing to build when nobody listens.
    if (this.events.listenerCount('queue') === 0) return;
    this.events.emit('queue', { model: slot.id, queued: slot.queued, inFlight: slot.inFlight, at: this.now() });
  }

  loadProgress(model: string, phase: LoadProgressEvent['phase'], message: string): void {
    this.events.emit('load', { model, phase, message, at: this.now() });
  }

  /**
   * Captures a container's output into the model's buffer until the container ends (or the
   * model's next container starts): a `log` event per line, and `load` events while `status()`
   * says the model is still starting.
   */
  capture(model: string, containerId: string, options: { engine: string | undefined; tail?: number; status: () => ModelStatus }): void {
    this.captures.get(model)?.abort.abort();
    const abort = new AbortController();
    this.captures.set(model, { containerId, abort });
    void (async () => {
      try {
        for await (const line of this.options.runtimeOf(options.engine).followLogs(containerId, { signal: abort.signal, tail: options.tail })) {
          this.logs.append(model, line);
          this.events.emit('log', { model, ...line });
          if (options.status() === 'starting') this.loadProgress(model, 'log', line.line);
        }
      } catch (err) {
        if (!abort.signal.aborted) this.options.log.warn({ model, err: errorMessage(err) }, `Stopped capturing the output of '${model}': ${errorMessage(err)}`);
      } finally {
        if (this.captures.get(model)?.abort === abort) this.captures.delete(model);
      }
    })();
  }

  /** Ends every capture (at shutdown, after the containers stopped). */
  close(): void {
    for (const { abort } of this.captures.values()) abort.abort();
    this.captures.clear();
  }
}

function describe(model: string, from: ModelStatus, to: ModelStatus, cause: string | undefined): string {
  const why = cause ? ` (${cause})` : '';
  if (to === 'sleeping') return from === 'stopped' || from === 'failed' ? `adopted the sleeping container of '${model}'` : `putting '${model}' to sleep${why}`;
  if (to === 'starting' && from === 'sleeping') return `waking '${model}'${why}`;
  if (to === 'starting') return `loading '${model}'${why}`;
  if (to === 'ready') return from === 'stopped' || from === 'failed' ? `adopted the running container of '${model}'` : `'${model}' is ready`;
  if (to === 'stopping') return `stopping '${model}'${why}`;
  if (to === 'stopped') return `'${model}' stopped${why}`;
  return `'${model}' failed`;
}
