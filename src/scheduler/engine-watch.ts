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

  /** Removes every container this instance owns (at shutdown, after the orderly stops). */
  async removeAllOwned(): Promise<number> {
    const { runtime, log } = this.s;
    const leftovers = await runtime.list(ownershipLabels(this.s.config().instance));
    await Promise.all(leftovers.map((c) => runtime.stop(c.id, 5000).then(() => runtime.remove(c.id))));
    if (leftovers.length) log.info({ count: leftovers.length }, `Removed ${leftovers.length} container(s) left over from an earlier run`);
    return leftovers.length;
  }

  async adoptOrRemove(): Promise<void> {
    const { runtime, log } = this.s;
    const config = this.s.config();
    const budget = this.s.budget();
    const containers = await runtime.list(ownershipLabels(config.instance));
    const plan = planAdoption(containers, (modelId, devices) => {
      const slot = this.s.slots.get(modelId);
      if (!slot) return undefined;
      const spec = buildContainerSpec(slot.model, { instance: config.instance, network: config.engines[0]!.network }, budget.inventory ? devices : undefined);
      return spec.labels[LABEL_SPEC_HASH];
    });
    const removals = plan.remove.map(async ({ container, reason }) => {
      log.info({ containerId: short(container.id), reason }, `Removing container ${container.name} left by an earlier run: ${reason}`);
      await runtime.stop(container.id, 5000);
      await runtime.remove(container.id);
    });
    const adoptions = plan.adopt.map(async ({ modelId, container, devices }) => {
      const slot = this.s.slots.get(modelId)!;
      try {
        await this.s.backend.ready({ runtime, containerId: container.id, endpoint: container.endpoint!, healthPath: slot.model.health, timeoutMs: ADOPT_HEALTH_TIMEOUT_MS });
      } catch (err) {
        log.info({ model: modelId, err: errorMessage(err) }, `Not adopting the container of '${modelId}': it does not answer; removing it`);
        await runtime.stop(container.id, 5000);
        await runtime.remove(container.id);
        return;
      }
      const held = budget.inventory ? devices : slot.usesGpu ? budget.placementDevices.map((d) => d.id) : [];
      const running = { id: container.id, endpoint: container.endpoint! };
      if (await this.isAsleep(slot, running.endpoint)) {
        slot.adoptAsleep(running, held);
        this.lifecycle.sleeper.armSleepTimer(slot);
        log.info({ model: modelId, containerId: short(container.id) }, `Adopted the sleeping container of '${modelId}' (its spec is unchanged): its next request wakes it`);
        return;
      }
      slot.markReady(running, 0, {}, held);
      this.lifecycle.armIdleTimer(slot);
      log.info({ model: modelId, containerId: short(container.id) }, `Adopted the running container of '${modelId}' (its spec is unchanged): ready without a reload`);
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

  start(): EventSubscription {
    const { runtime, log } = this.s;
    return runtime.watch(ownershipLabels(this.s.config().instance), {
      onEvent: (event) => this.onEvent(event),
      onDisconnect: (err) => log.warn({ err: errorMessage(err) }, 'Lost the container engine’s event stream; reconnecting. Requests fail with 503 until the engine answers again'),
      onReconnect: () => {
        log.info('Reconnected to the container engine; checking the models');
        this.reconcile().catch((err) => log.error({ err: errorMessage(err) }, 'Could not list containers after reconnecting'));
      },
    });
  }

  private onEvent(event: ContainerEvent): void {
    const slot = this.s.slots.get(event.labels[LABEL_MODEL] ?? '');
    if (!slot || slot.containerId !== event.containerId || this.s.isShuttingDown()) return;
    if (slot.status === 'sleeping') void this.diedAsleep(slot, event);
    else if (slot.status === 'ready') void this.crashed(slot, () => this.describeEnd(event), event);
  }

  /** A sleeping model's container ended: nothing was in flight; the next request starts it cold. */
  private async diedAsleep(slot: Slot, event: ContainerEvent): Promise<void> {
    const containerId = slot.containerId!;
    const reason = await this.describeEnd(event);
    if (slot.status !== 'sleeping' || slot.containerId !== containerId) return;
    slot.markFailed(`${reason} while asleep`, { cause: 'crash', exitCode: event.exitCode, oomKilled: event.oomKilled });
    this.s.log.warn({ model: slot.id, containerId: short(containerId), reason }, `The container of sleeping model '${slot.id}' ended: ${reason}. Its next request starts it again`);
    await this.s.runtime.remove(containerId).catch(() => undefined);
    this.s.schedule();
  }

  /** Why the container ended. A hand removal of a running container shows as a kill (137) first. */
  private async describeEnd(event: Pick<ContainerEvent, 'kind' | 'containerId' | 'exitCode' | 'oomKilled'>): Promise<string> {
    if (event.kind === 'removed') return 'its container was removed outside swapdock';
    if (event.oomKilled) return 'its container ran out of memory and was killed (OOM)';
    if (event.exitCode === 137) {
      await new Promise((r) => setTimeout(r, 300));
      const info = await this.s.runtime.inspect(event.containerId).catch(() => null); // null: the engine did not answer
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
    for (let attempt = 0; attempt < 10 && slot.containerId === containerId && slot.status === 'ready'; attempt++) {
      let info;
      try {
        info = await this.s.runtime.inspect(containerId);
      } catch (err) {
        // The engine itself does not answer: nothing is known about the container, so the model
        // is not marked crashed; the client hears that the engine is unreachable.
        return err instanceof Error ? err : new Error(String(err));
      }
      if (info?.state !== 'running') {
        const end = { kind: info ? ('died' as const) : ('removed' as const), containerId, exitCode: info?.exitCode, oomKilled: info?.oomKilled };
        void this.crashed(slot, () => this.describeEnd(end), end);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return slot.crash?.containerId === containerId ? slot.crash.error : undefined;
  }

  /** After the event stream was down: any model whose container is gone has crashed meanwhile. */
  private async reconcile(): Promise<void> {
    const running = new Set((await this.s.runtime.list(ownershipLabels(this.s.config().instance))).filter((c) => c.state === 'running').map((c) => c.id));
    for (const slot of this.s.slots.values()) {
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
    const error = this.failRequests(slot, containerId, describe, waiters, inFlight);
    slot.noteCrash(containerId, error);
    return error;
  }

  private async failRequests(slot: Slot, containerId: string, describe: () => Promise<string>, waiters: { reject(err: Error): void }[], inFlight: { revoke(reason: Error): void }[]): Promise<Error> {
    const { runtime, log } = this.s;
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
