// The engines of the pool as the scheduler's machinery holds them: each one's runtime, GPUs and
// memory, and whether it is reachable. An engine that goes away (its daemon stops, its host
// turns off) is marked unavailable with the reason; placement skips it until it answers again.
import type { GpuDevice } from '../config/schema.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

export interface EngineMember {
  /** As in the config (`engines[].name`; 'default' for a config with `engine:`). */
  name: string;
  runtime: ContainerRuntime;
  /** Its GPUs at start-up: as the config lists them, or detected with nvidia-smi; undefined = not measured. */
  gpus?: readonly GpuDevice[];
  /** nvidia-smi on swapdock's host sees its GPUs (a local engine). */
  localGpus?: boolean;
  /** Its host's memory, for the default sleepMemory (learnt when it first answers). */
  memoryBytes?: number;
}

/** An engine as the API shows it: its GPUs, and why and since when it is unreachable (when it is). */
export interface EngineState {
  name: string;
  gpus: readonly GpuDevice[] | undefined;
  unavailable?: string;
  downSince?: number;
}

export class EngineMembers {
  private readonly byName: Map<string, EngineMember>;
  private readonly down = new Map<string, { reason: string; since: number }>();

  constructor(readonly list: readonly EngineMember[]) {
    this.byName = new Map(list.map((m) => [m.name, m]));
  }

  get(name: string): EngineMember {
    const member = this.byName.get(name);
    if (!member) throw new Error(`internal: no engine '${name}' in the pool (${[...this.byName.keys()].join(', ')})`);
    return member;
  }

  runtimeOf(name: string): ContainerRuntime {
    return this.get(name).runtime;
  }

  /** Why it takes no models now; undefined while it is reachable. */
  unavailable(name: string): string | undefined {
    return this.down.get(name)?.reason;
  }

  /** Since when it has been unreachable (ms epoch); undefined while reachable. */
  downSince(name: string): number | undefined {
    return this.down.get(name)?.since;
  }

  /** Every engine in config order, with its GPUs as placement counts them (`gpusOf`). */
  states(gpusOf: (name: string) => readonly GpuDevice[] | undefined): EngineState[] {
    return this.list.map(({ name }) => {
      const down = this.down.get(name);
      return { name, gpus: gpusOf(name), ...(down ? { unavailable: down.reason, downSince: down.since } : {}) };
    });
  }

  /** Returns whether this changed anything (it was up). */
  markDown(name: string, reason: string, at: number): boolean {
    if (this.down.has(name)) return false;
    this.down.set(name, { reason, since: at });
    return true;
  }

  /** Returns whether this changed anything (it was down). */
  markUp(name: string): boolean {
    return this.down.delete(name);
  }
}
