// Translates models and the engines' GPUs into what the placement policy reasons about. An
// engine without an inventory (no `gpus:` for it in the config, no nvidia-smi) offers one pseudo
// device that a GPU model needs in full, which makes GPU models exclusive there: the simple
// behaviour that is always safe. Device ids are an engine's own ('0', '1', …); a model's
// placement is always one engine and devices of that engine.
import type { Logger } from 'pino';
import type { GpuDevice, ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { GpuInventory } from '../runtime/gpu-inventory.js';
import { retryUntil } from '../util/retry-until.js';
import type { GpuDemand } from './placement-policy.js';

export const EXCLUSIVE_GPU = 'exclusive-gpu';
const VRAM_FREE_WAIT_MS = 5000;
const EXCLUSIVE_DEVICES: readonly GpuDevice[] = [{ id: EXCLUSIVE_GPU, vramBytes: 1 }];

/** One engine's GPUs as the budget sees them. */
export interface EngineGpus {
  name: string;
  /** undefined: not measured; GPU models are exclusive on this engine. */
  inventory: readonly GpuDevice[] | undefined;
  /** nvidia-smi on swapdock's host sees these GPUs (a local engine): loads wait until a stop's VRAM is free. */
  localGpus: boolean;
}

export class GpuBudget {
  private readonly byName: Map<string, EngineGpus>;
  private readonly conflicts = new Map<string, Set<string>>();

  constructor(
    config: Pick<SwapdockConfig, 'models'>,
    readonly engines: readonly EngineGpus[],
    private readonly probe: GpuInventory,
  ) {
    this.byName = new Map(engines.map((e) => [e.name, e]));
    for (const model of config.models.values()) {
      for (const other of model.conflicts) {
        this.conflictSet(model.id).add(other);
        this.conflictSet(other).add(model.id);
      }
    }
  }

  private conflictSet(id: string): Set<string> {
    let set = this.conflicts.get(id);
    if (!set) this.conflicts.set(id, (set = new Set()));
    return set;
  }

  conflictsOf(id: string): ReadonlySet<string> {
    return this.conflicts.get(id) ?? new Set();
  }

  /** The engine's measured GPUs; undefined when GPU models are exclusive there. */
  inventoryOf(engine: string): readonly GpuDevice[] | undefined {
    return this.byName.get(engine)?.inventory;
  }

  /** The devices placement reasons about on `engine`. */
  placementDevicesOf(engine: string): readonly GpuDevice[] {
    return this.inventoryOf(engine) ?? EXCLUSIVE_DEVICES;
  }

  demandOn(model: ModelConfig, engine: string): GpuDemand | undefined {
    if (model.gpus === undefined) return undefined;
    if (!this.inventoryOf(engine)) return { devices: [EXCLUSIVE_GPU] };
    return { devices: model.gpus, vramBytes: model.vramBytes };
  }

  /** Per-device VRAM a resident model holds on `engine`, as the policy counts it (undefined = whole GPUs). */
  vramOf(model: ModelConfig, engine: string): number | undefined {
    return this.inventoryOf(engine) ? model.vramBytes : undefined;
  }

  /**
   * Per-device VRAM a model keeps while asleep on `engine` (its CUDA context), as the policy
   * counts it: undefined for a model that cannot sleep; 0 where GPUs are not measured.
   */
  sleepVramOf(model: ModelConfig, engine: string): number | undefined {
    if (!model.sleep) return undefined;
    return this.inventoryOf(engine) ? model.sleep.vramBytes : 0;
  }

  /** Devices to show for a model: the pseudo device of exclusive mode is not a real one. */
  visibleDevices(devices: readonly string[]): string[] {
    return devices.filter((d) => d !== EXCLUSIVE_GPU);
  }

  /**
   * After stopping models, waits (bounded) until the GPUs really show the memory as free: a
   * process can hold VRAM for a moment after its container is gone. Skipped when unmeasurable
   * (no nvidia-smi, or the engine's GPUs are on another host).
   */
  async waitUntilFree(engine: string, devices: readonly string[], needBytes: number | undefined, log: Logger): Promise<void> {
    const real = this.visibleDevices(devices);
    if (real.length === 0 || !this.byName.get(engine)?.localGpus) return;
    const started = Date.now();
    try {
      await retryUntil(
        async () => {
          const usage = await this.probe.read();
          if (!usage) return true; // cannot measure: nothing to wait for
          const free = real.every((id) => {
            const u = usage.find((g) => g.id === id);
            return !u || u.totalBytes - u.usedBytes >= (needBytes ?? u.totalBytes * 0.9);
          });
          return free ? true : undefined;
        },
        { timeoutMs: VRAM_FREE_WAIT_MS, initialIntervalMs: 50, maxIntervalMs: 500 },
      );
      if (Date.now() - started > 100) log.info({ devices: real, durationMs: Date.now() - started }, 'GPU memory is free; starting the next model');
    } catch {
      log.warn({ devices: real }, `GPU memory still in use ${VRAM_FREE_WAIT_MS / 1000} s after stopping the previous model; starting anyway`);
    }
  }
}
