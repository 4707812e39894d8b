// A pool of several engines keeps serving when one of them goes away. Its event stream breaking
// or its ping failing (a host that is off sends nothing: only the ping notices) marks the engine
// unreachable: its models are marked failed at once, requests on them are cut with an error
// naming the engine, and queued ones stay queued, so the scheduler places them on another engine
// that the model allows, or refuses them with a 503 naming the engine. When it answers again,
// swapdock adopts what still runs there (or removes it) and places models on it again.
// With a single engine there is nowhere else to go: the engine watch reconnects and reconciles.
import { EngineDownError, errorMessage } from '../errors.js';
import type { EventSubscription } from '../runtime/container-runtime.js';
import { EngineUnavailableError } from '../runtime/runtime-errors.js';
import type { EngineWatch } from './engine-watch.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';
import type { SchedulerEvents } from './scheduler-events.js';

/** How often each engine of a pool is pinged, and how long a ping may take. */
export const ENGINE_HEARTBEAT = { intervalMs: 2_000, timeoutMs: 2_500 };

export class EngineOutages {
  private readonly subscriptions = new Map<string, EventSubscription>();
  private readonly pinging = new Set<string>();
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly s: SchedulerContext,
    private readonly watch: EngineWatch,
    private readonly events: SchedulerEvents,
    private readonly heartbeatMs = ENGINE_HEARTBEAT.intervalMs,
  ) {}

  start(): void {
    for (const { name } of this.s.engines.list) if (this.s.engines.unavailable(name) === undefined) this.subscribe(name);
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const sub of this.subscriptions.values()) sub.close();
    this.subscriptions.clear();
  }

  private subscribe(engine: string): void {
    this.subscriptions.get(engine)?.close();
    this.subscriptions.set(engine, this.watch.watch(engine, { lost: (reason) => this.confirm(engine, reason), back: () => this.back(engine) }));
  }

  /** The event stream broke: the engine is down only if it does not answer a ping either (the stream reconnects by itself). */
  private confirm(engine: string, streamReason: string): void {
    this.s
      .runtimeOf(engine)
      .ping(ENGINE_HEARTBEAT.timeoutMs)
      .catch((err) => this.lost(engine, outageReason(err) || streamReason));
  }

  private beat(): void {
    for (const { name, runtime } of this.s.engines.list) {
      if (this.pinging.has(name)) continue;
      this.pinging.add(name);
      runtime
        .ping(ENGINE_HEARTBEAT.timeoutMs)
        .then(
          () => this.back(name),
          (err) => this.lost(name, outageReason(err)),
        )
        .finally(() => this.pinging.delete(name));
    }
  }

  /** The engine is unreachable: its models fail over (idempotent while it stays down). */
  lost(engine: string, reason: string): void {
    if (this.closed || this.s.isShuttingDown() || !this.s.engines.markDown(engine, reason, this.s.now())) return;
    this.subscriptions.get(engine)?.close();
    this.subscriptions.delete(engine);
    const lost = [...this.s.slots.values()].filter((slot) => slot.engine === engine);
    this.s.log.warn(
      { engine, reason, models: lost.map((slot) => slot.id) },
      `Engine '${engine}' is unreachable (${reason}). Its models are marked failed` +
        `${lost.length ? ` (${lost.map((slot) => `'${slot.id}'`).join(', ')})` : ''}; their requests go to other engines that allow them. ` +
        'swapdock checks every few seconds and uses it again as soon as it answers.',
    );
    this.events.emit('engine', { engine, state: 'down', reason, at: this.s.now() });
    for (const slot of lost) this.failOver(slot, engine, reason);
    this.s.schedule();
  }

  /** The engine answers again: adopt what still runs there, then place models on it again. */
  back(engine: string): void {
    if (this.closed || this.s.isShuttingDown() || this.s.engines.unavailable(engine) === undefined) return;
    const downFor = this.s.now() - (this.s.engines.downSince(engine) ?? this.s.now());
    this.s.engines.markUp(engine);
    this.s.log.info({ engine, downForMs: downFor }, `Engine '${engine}' answers again after ${Math.round(downFor / 1000)} s; using it again`);
    this.events.emit('engine', { engine, state: 'up', at: this.s.now() });
    this.subscribe(engine);
    const member = this.s.engines.get(engine);
    // Down since start-up: its host's memory (for the default sleepMemory) is learnt now.
    if (member.memoryBytes === undefined) {
      member.runtime.engineInfo().then((info) => (member.memoryBytes ??= info.memoryBytes), () => undefined);
    }
    this.watch
      .adoptOn(engine)
      .catch((err) => this.s.log.warn({ engine, err: errorMessage(err) }, `Could not check the containers on engine '${engine}' after it came back: ${errorMessage(err)}`))
      .finally(() => this.s.schedule());
  }

  private failOver(slot: Slot, engine: string, reason: string): void {
    const error = new EngineDownError(slot.id, [engine], reason, true);
    const why = `engine '${engine}' became unreachable (${reason})`;
    if (slot.status === 'ready' || slot.status === 'sleeping') {
      slot.markFailed(why, { cause: 'crash' });
      for (const lease of [...slot.leases]) lease.revoke(error);
    } else if (slot.status === 'starting') {
      // A cold start is cancelled (its queued requests stay); a wake fails on its own call.
      slot.startAbort?.abort(error);
    }
  }
}

/** Why an engine is unreachable, in a few words (where it is, and the cause), for messages that name it. */
function outageReason(err: unknown): string {
  return err instanceof EngineUnavailableError ? `${err.target}: ${err.reason}` : errorMessage(err);
}
