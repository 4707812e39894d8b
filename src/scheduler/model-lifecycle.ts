// Starting and stopping one model's container on behalf of the scheduler, with the bookkeeping
// around it: status transitions, crash-loop records, idle timers, log lines with durations.
import { EngineDownError, ShuttingDownError, errorMessage } from '../errors.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { short } from './container-lifecycle.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { UnloadReason } from './scheduler-events.js';
import { SleepLifecycle } from './sleep-lifecycle.js';

export class ModelLifecycle {
  /** Sleeping and waking (models with a `sleep` kind). */
  readonly sleeper: SleepLifecycle;

  constructor(private readonly ctx: SchedulerContext) {
    this.sleeper = new SleepLifecycle(ctx, this);
  }

  /** Runs after `slot` went to 'starting' with its devices set; settles the waiters either way. */
  async start(slot: Slot): Promise<void> {
    const { ctx } = this;
    const config = ctx.config();
    const budget = ctx.budget();
    const log = ctx.log.child({ model: slot.id });
    const engine = slot.engine!;
    const spec = buildContainerSpec(slot.model, { instance: config.instance, network: ctx.engineConfig(engine).network }, budget.inventoryOf(engine) ? slot.devices : undefined);
    const shown = budget.visibleDevices(slot.devices);
    const where = `${shown.length ? ` on GPU ${shown.join(', ')}` : ''}${ctx.engines.list.length > 1 ? ` of engine '${engine}'` : ''}`;
    log.info({ image: spec.image, devices: shown, engine }, `Starting model '${slot.id}'${where}`);
    const startedAt = ctx.now();
    const abort = slot.beginStart();
    // Its engine went away while the evicted models stopped or another load ran there.
    const down = ctx.engines.unavailable(engine);
    if (down !== undefined) abort.abort(new EngineDownError(slot.id, [engine], down, true));
    try {
      // After a crash: its handling reads the dead container's state and logs, then removes it;
      // a new container under the same name must not replace it before that.
      await slot.crash?.error.catch(() => undefined);
      if (ctx.isShuttingDown()) throw new ShuttingDownError();
      const starting = ctx.backend.start({
        runtime: ctx.runtimeOf(engine),
        model: slot.model,
        spec,
        log,
        signal: abort.signal,
        onPull: (message) => ctx.observer.loadProgress(slot.id, 'pull', message),
        onStarted: (containerId) => ctx.observer.capture(slot.id, containerId, { engine, status: () => slot.status }),
      });
      const container = await Promise.race([starting, engineLost(abort.signal, starting)]);
      slot.markReady(container, ctx.now() - startedAt);
    } catch (err) {
      if (abort.signal.reason instanceof EngineDownError) {
        // Its engine went away: the queued requests stay, for another engine (engine-outage.ts).
        slot.markFailed(errorMessage(abort.signal.reason));
        log.warn(`Start of '${slot.id}' abandoned: ${errorMessage(abort.signal.reason)}`);
        return;
      }
      if (abort.signal.aborted) {
        // Cancelled on purpose (unload, shutdown): not a failure of the model.
        slot.markStopped({ reason: `start cancelled: ${errorMessage(abort.signal.reason)}` });
        log.info(`Start of '${slot.id}' cancelled: ${errorMessage(abort.signal.reason)}`);
        slot.rejectWaiters(abort.signal.reason as Error);
        return;
      }
      slot.markFailed(errorMessage(err));
      // An unreachable engine says nothing about the model: it does not count toward a crash loop.
      if ((err as { code?: string }).code !== 'engine_unavailable') slot.recordFailure(ctx.now());
      log.error({ err: errorMessage(err) }, `Model '${slot.id}' failed to start`);
      slot.rejectWaiters(err as Error);
    } finally {
      slot.endStart();
    }
  }

  /** Stops a model that is ready (with nothing in flight: callers make sure of that) or asleep. */
  stop(slot: Slot, reason: string, cause: UnloadReason): Promise<void> {
    // Falling asleep: the sleep call ends first (a failed one has stopped the container already).
    if (slot.status === 'sleeping' && slot.sleepCall) return slot.sleepCall.then(() => this.stop(slot, reason, cause));
    if (slot.status !== 'ready' && slot.status !== 'sleeping') return slot.operation ?? Promise.resolve();
    return this.stopContainer(slot, reason, cause);
  }

  /** A wake that failed: the container (kept while asleep) is stopped; the model ends 'stopped' with its queue intact. */
  stopStarting(slot: Slot, reason: string): Promise<void> {
    return this.stopContainer(slot, reason, 'swap');
  }

  private stopContainer(slot: Slot, reason: string, cause: UnloadReason): Promise<void> {
    const { ctx } = this;
    const containerId = slot.containerId!;
    const runtime = ctx.runtimeOf(slot.engine);
    const log = ctx.log.child({ model: slot.id, containerId: short(containerId) });
    log.info({ reason }, `Stopping model '${slot.id}' (${reason})`);
    slot.transition('stopping', { reason, cause });
    slot.clearIdleTimer();
    const startedAt = ctx.now();
    return slot.track(
      ctx.backend.stop(runtime, containerId, slot.model.stopTimeoutMs)
      .then(
        () => {
          slot.markStopped();
          log.info({ durationMs: ctx.now() - startedAt }, `Stopped model '${slot.id}' in ${ctx.now() - startedAt} ms`);
        },
        (err) => {
          slot.markFailed(errorMessage(err));
          log.error({ err: errorMessage(err) }, `Could not stop model '${slot.id}'; check the engine`);
        },
      )
      .finally(() => ctx.schedule()),
    );
  }

  /** Drains a ready model (new requests queue meanwhile) and stops it. */
  async drainAndStop(slot: Slot, drainingFor: 'unload' | 'reload', reason: string, cause: UnloadReason): Promise<void> {
    if (slot.status === 'starting' || slot.status === 'stopping') await slot.operation;
    if (slot.status === 'sleeping') return this.stop(slot, reason, cause);
    if (slot.status !== 'ready') return;
    slot.drain(drainingFor);
    await slot.drained();
    await this.stop(slot, reason, cause);
  }

  armIdleTimer(slot: Slot): void {
    if (slot.model.baseline || slot.status !== 'ready') return; // baselines stay until something needs their GPUs
    slot.armIdleTimer(slot.model.ttlMs, () => {
      if (slot.inFlight > 0 || slot.hasWaiters() || slot.status !== 'ready') return;
      // The idle ladder: a model that can sleep goes to sleep first (sleep.ttl then stops it).
      void this.sleeper.release(slot, `idle for ${Math.round(slot.model.ttlMs / 1000)} s`, 'ttl');
    });
  }
}

/**
 * Rejects when the start is cancelled because its engine went away: an engine call to a host that
 * is off can hang for minutes, and the model's requests must go elsewhere now. What the abandoned
 * start still does is ignored; the engine's containers are checked when it answers again.
 */
function engineLost(signal: AbortSignal, starting: Promise<unknown>): Promise<never> {
  return new Promise((_, reject) => {
    const onAbort = () => {
      if (!(signal.reason instanceof EngineDownError)) return;
      starting.catch(() => undefined);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    starting.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
  });
}
