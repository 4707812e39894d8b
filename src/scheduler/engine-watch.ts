// Keeps the scheduler's picture true to the engine: adopts unchanged containers after a restart,
// and reacts to engine events — a managed container that dies, is OOM-killed or is removed by
// hand fails its waiting requests and streams at once and is marked failed, so the next request
// starts it again (with crash-loop backoff).
import { ModelCrashedError, errorMessage } from '../errors.js';
import type { ContainerEvent, EventSubscription } from '../runtime/container-runtime.js';
import { buildContainerSpec } from '../runtime/container-spec.js';
import { LABEL_MODEL, LABEL_SPEC_HASH, ownershipLabels } from '../runtime/labels.js';
import { planAdoption } from './adoption.js';
import { short } from './container-lifecycle.js';
import type { ModelLifecycle } from './model-lifecycle.js';
import type { SchedulerContext, Slot } from './scheduler-context.js';

const ADOPT_HEALTH_TIMEOUT_MS = 5000;

export class EngineWatch {
  constructor(
    private readonly s: SchedulerContext,
    private readonly lifecycle: ModelLifecycle,
  ) {}

  /** Removes every container this instance owns on every reachable engine (at shutdown, after the orderly stops). */
  async removeAllOwned(): Promise<number> {
    const { log } = this.s;
    let count = 0;
    for (const { name, runtime } of this.s.engines.list) {
      if (this.s.engines.unavailable(name) !== undefined) continue;
      const leftovers = await runtime.list(ownershipLabels(this.s.config().instance));
      await Promise.all(leftovers.map((c) => runtime.stop(c.id, 5000).then(() => runtime.remove(c.id))));
      count += leftovers.length;
    }
    if (count) log.info({ count }, `Removed ${count} container(s) left over from an earlier run`);
    return count;
  }

  /**
   * At start-up, on every engine: adopts running containers of an earlier run whose spec is
   * unchanged (ready at once, TTL restarted) and removes every other container this instance owns.
   */
  async adoptEverywhere(): Promise<void> {
    const { engines } = this.s;
    for (const { name } of engines.list) {
      try {
        await this.adoptOn(name);
      } catch (err) {
        // One engine: nothing can run without it. A pool starts without it and uses it once it answers.
        if (engines.list.length === 1) throw err;
        engines.markDown(name, errorMessage(err), this.s.now());
        this.s.log.warn({ engine: name, err: errorMessage(err) }, `Engine '${name}' does not answer at start-up (${errorMessage(err)}): starting without it; swapdock uses it as soon as it answers`);
      }
    }
  }

  /**
   * Adopts the running containers on `engine` whose spec is unchanged, of models that run nowhere
   * else, and removes the others (also when an engine of the pool answers again).
   */
  async adoptOn(engine: string): Promise<void> {
    const { log } = this.s;
    const runtime = this.s.runtimeOf(engine);
    const config = this.s.config();
    const budget = this.s.budget();
    const several = this.s.engines.list.length > 1;
    const containers = await runtime.list(ownershipLabels(config.instance));
    const plan = planAdoption(
      containers,
      (modelId, devices) => {
        const slot = this.s.slots.get(modelId);
        if (!slot || (slot.model.engines && !slot.model.engines.includes(engine))) return undefined;
        const spec = buildContainerSpec(slot.model, { instance: config.instance, network: this.s.engineConfig(engine).network }, budget.inventoryOf(engine) ? devices : undefined);
        return spec.labels[LABEL_SPEC_HASH];
      },
      (modelId) => {
        const slot = this.s.slots.get(modelId)!;
        if (slot.status === 'stopped' || slot.status === 'failed') return undefined;
        return `'${modelId}' is ${slot.status}${slot.engine && slot.engine !== engine ? ` on engine '${slot.engine}'` : ''}`;
      },
    );
    const on = several ? ` on engine '${engine}'` : '';
    const removals = plan.remove.map(async ({ container, reason }) => {
      log.info({ containerId: short(container.id), reason, engine }, `Removing container ${container.name}${on} left by an earlier run: ${reason}`);
      await runtime.stop(container.id, 5000);
      await runtime.remove(container.id);
    });
    const adoptions = plan.adopt.map(async ({ modelId, container, devices }) => {
      const slot = this.s.slots.get(modelId)!;
      try {
        await this.s.backend.ready({ runtime, containerId: container.id, endpoint: container.endpoint!, healthPath: slot.model.health, timeoutMs: ADOPT_HEALTH_TIMEOUT_MS });
      } catch (err) {
        log.info({ model: modelId, err: errorMessage(err) }, `Not adopting the container of '${modelId}'${on}: it does not answer; removing it`);
        await runtime.stop(container.id, 5000);
        await runtime.remove(container.id);
        return;
      }
      // Checked again: a request may have placed the model meanwhile.
      if (slot.status !== 'stopped' && slot.status !== 'failed') {
        await runtime.stop(container.id, 5000);
        await runtime.remove(container.id);
        return;
      }
      const held = budget.inventoryOf(engine) ? devices : slot.usesGpu ? budget.placementDevicesOf(engine).map((d) => d.id) : [];
      const running = { id: container.id, endpoint: container.endpoint! };
      const placement = { engine, devices: held };
      if (await this.isAsleep(slot, running.endpoint)) {
        slot.adoptAsleep(running, placement);
        this.lifecycle.sleeper.armSleepTimer(slot);
        log.info({ model: modelId, containerId: short(container.id), engine }, `Adopted the sleeping container of '${modelId}'${on} (its spec is unchanged): its next request wakes it`);
        return;
      }
      slot.markReady(running, 0, {}, placement);
      this.lifecycle.armIdleTimer(slot);
      log.info({ model: modelId, containerId: short(container.id), engine }, `Adopted the running container of '${modelId}'${on} (its spec is unchanged): ready without a reload`);
    });
    await Promise.all([...removals, ...adoptions]);
  }

  /** Whether an adopted container is asleep (its sleep kind says so); never for a model without one. */
  private async isAsleep(slot: Slot, endpoint: { host: string; port: number }): Promise<boolean> {
    const control = this.s.backend.sleepControl(slot.model);
    if (!control) return false;
    try {
      return (await control.isAsleep(endpoint, AbortSignal.timeout(ADOPT_HEALTH_TIMEOUT_MS))) === true;
    } catch (err) {
      this.s.log.warn({ model: slot.id, err: errorMessage(err) }, `Could not tell whether '${slot.id}' is asleep; adopting it as ready`);
      return false;
    }
  }

  /** Watches one engine's events; `outage` is told when its stream breaks and comes back. */
  watch(engine: string, outage?: { lost(reason: string): void; back(): void }): EventSubscription {
    const { log } = this.s;
    const runtime = this.s.runtimeOf(engine);
    return runtime.watch(ownershipLabels(this.s.config().instance), {
      onEvent: (event) => this.onEvent(engine, event),
      onDisconnect: (err) => {
        if (outage) return outage.lost(errorMessage(err));
        log.warn({ err: errorMessage(err) }, 'Lost the container engine’s event stream; reconnecting. Requests fail with 503 until the engine answers again');
      },
      onReconnect: () => {
        if (outage) return outage.back();
        log.info('Reconnected to the container engine; checking the models');
        this.reconcile(engine).catch((err) => log.error({ err: errorMessage(err) }, 'Could not list containers after reconnecting'));
      },
    });
  }

  private onEvent(engine: string, event: ContainerEvent): void {
    const slot = this.s.slots.get(event.labels[LABEL_MODEL] ?? '');
    if (!slot || slot.engine !== engine || slot.containerId !== event.containerId || this.s.isShuttingDown()) return;
    if (slot.status === 'sleeping') void this.diedAsleep(slot, event);
    else if (slot.status === 'ready') void this.crashed(slot, () => this.describeEnd(engine, event), event);
  }

  /** A sleeping model's container ended: nothing was in flight; the next request starts it cold. */
  private async diedAsleep(slot: Slot, event: ContainerEvent): Promise<void> {
    const containerId = slot.containerId!;
    const runtime = this.s.runtimeOf(slot.engine);
    const reason = await this.describeEnd(slot.engine!, event);
    if (slot.status !== 'sleeping' || slot.containerId !== containerId) return;
    slot.markFailed(`${reason} while asleep`, { cause: 'crash', exitCode: event.exitCode, oomKilled: event.oomKilled });
    this.s.log.warn({ model: slot.id, containerId: short(containerId), reason }, `The container of sleeping model '${slot.id}' ended: ${reason}. Its next request starts it again`);
    await runtime.remove(containerId).catch(() => undefined);
    this.s.schedule();
  }

  /** Why the container ended. A hand removal of a running container shows as a kill (137) first. */
  private async describeEnd(engine: string, event: Pick<ContainerEvent, 'kind' | 'containerId' | 'exitCode' | 'oomKilled'>): Promise<string> {
    if (event.kind === 'removed') return 'its container was removed outside swapdock';
    if (event.oomKilled) return 'its container ran out of memory and was killed (OOM)';
    if (event.exitCode === 137) {
      await new Promise((r) => setTimeout(r, 300));
      const info = await this.s.runtimeOf(engine).inspect(event.containerId).catch(() => null); // null: the engine did not answer
      if (info === undefined) return 'its container was removed outside swapdock';
      if (info?.oomKilled) return 'its container ran out of memory and was killed (OOM)';
      return 'its container was killed (exit code 137: SIGKILL, or out of memory)';
    }
    return `its container exited with code ${event.exitCode ?? 'unknown'}`;
  }

  /**
   * Checks the container after a refused or dropped connection; engines report a death 50–250 ms
   * after it happens, so a container that still looks alive is watched for a moment. When it is
   * gone, handles the crash and returns its error.
   */
  async verify(slot: Slot, containerId: string): Promise<Error | undefined> {
    const engine = slot.engine;
    if (engine === undefined) return slot.crash?.containerId === containerId ? slot.crash.error : undefined;
    const runtime = this.s.runtimeOf(engine);
    for (let attempt = 0; attempt < 10 && slot.containerId === containerId && slot.status === 'ready'; attempt++) {
      let info;
      try {
        info = await runtime.inspect(containerId);
      } catch (err) {
        // The engine itself does not answer: nothing is known about the container, so the model
        // is not marked crashed; the client hears that the engine is unreachable.
        return err instanceof Error ? err : new Error(String(err));
      }
      if (info?.state !== 'running') {
        const end = { kind: info ? ('died' as const) : ('removed' as const), containerId, exitCode: info?.exitCode, oomKilled: info?.oomKilled };
        void this.crashed(slot, () => this.describeEnd(engine, end), end);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return slot.crash?.containerId === containerId ? slot.crash.error : undefined;
  }

  /** After the event stream was down: any model whose container is gone has crashed meanwhile. */
  private async reconcile(engine: string): Promise<void> {
    const running = new Set((await this.s.runtimeOf(engine).list(ownershipLabels(this.s.config().instance))).filter((c) => c.state === 'running').map((c) => c.id));
    for (const slot of this.s.slots.values()) {
      if (slot.engine !== engine) continue;
      if (slot.status === 'ready' && slot.containerId && !running.has(slot.containerId)) {
        await this.crashed(slot, async () => 'its container stopped while the engine was unreachable');
      } else if (slot.status === 'sleeping' && slot.containerId && !running.has(slot.containerId)) {
        slot.markFailed('its container stopped while asleep and the engine was unreachable', { cause: 'crash' });
      }
    }
  }

  private crashed(slot: Slot, describe: () => Promise<string>, end: { exitCode?: number; oomKilled?: boolean } = {}): Promise<Error> {
    if (slot.status !== 'ready') return slot.crash?.error ?? Promise.resolve(new ModelCrashedError(slot.id, 'it stopped'));
    const containerId = slot.containerId!;
    const engine = slot.engine!;
    const uptimeMs = slot.loadedAt === undefined ? undefined : this.s.now() - slot.loadedAt;
    // Synchronously: no new request may reach the dead container from here on.
    slot.markFailed('its container stopped unexpectedly', { cause: 'crash', exitCode: end.exitCode, oomKilled: end.oomKilled });
    slot.recordFailure(this.s.now(), uptimeMs);
    // Take the queued requests now, so no schedule() in between can start them on a new container.
    const waiters: { reject(err: Error): void }[] = [];
    for (let w = slot.dequeue(); w; w = slot.dequeue()) waiters.push(w);
    // And the requests in flight on the dead container: by the time the crash is described, a
    // request that came after it may hold a lease on the new container.
    const inFlight = [...slot.leases];
    const error = this.failRequests(slot, engine, containerId, describe, waiters, inFlight);
    slot.noteCrash(containerId, error);
    return error;
  }

  private async failRequests(slot: Slot, engine: string, containerId: string, describe: () => Promise<string>, waiters: { reject(err: Error): void }[], inFlight: { revoke(reason: Error): void }[]): Promise<Error> {
    const { log } = this.s;
    const runtime = this.s.runtimeOf(engine);
    const [reason, lastLogLines] = await Promise.all([describe(), runtime.logs(containerId, 20).catch(() => [])]);
    slot.explainError(reason);
    const error = new ModelCrashedError(slot.id, reason, lastLogLines);
    log.error({ model: slot.id, containerId: short(containerId), reason, lastLogLines }, `Model '${slot.id}' stopped unexpectedly: ${reason}`);
    for (const waiter of waiters) waiter.reject(error);
    for (const lease of inFlight) lease.revoke(error);
    await runtime.remove(containerId).catch(() => undefined);
    this.s.schedule();
    return error;
  }
}
