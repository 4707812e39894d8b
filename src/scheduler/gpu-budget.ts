// Translates models and the host's GPUs into what the placement policy reasons about. Without an
// inventory (no `gpus:` in the config, no nvidia-smi) every GPU model needs one pseudo device in
// full, which makes GPU models exclusive, the simple behaviour that is always safe.
import type { Logger } from 'pino';
import type { GpuDevice, ModelConfig, SwapdockConfig } from '../config/schema.js';
import type { GpuInventory } from '../runtime/gpu-inventory.js';
import { retryUntil } from '../util/retry-until.js';
import type { GpuDemand } from './placement-policy.js';

export const EXCLUSIVE_GPU = 'exclusive-gpu';
const VRAM_FREE_WAIT_MS = 5000;

export class GpuBudget {
  readonly placementDevices: readonly GpuDevice[];
  private readonly conflicts = new Map<string, Set<string>>();

  constructor(
    config: SwapdockConfig,
    readonly inventory: readonly GpuDevice[] | undefined,
    private readonly probe: GpuInventory,
  ) {
    this.placementDevices = inventory ?? [{ id: EXCLUSIVE_GPU, vramBytes: 1 }];
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

  demandOf(model: ModelConfig): GpuDemand | undefined {
    if (model.gpus === undefined) return undefined;
    if (!this.inventory) return { devices: [EXCLUSIVE_GPU] };
    return { devices: model.gpus, vramBytes: model.vramBytes };
  }

  /** Per-device VRAM a resident model holds, as the policy counts it (undefined = whole GPUs). */
  vramOf(model: ModelConfig): number | undefined {
    return this.inventory ? model.vramBytes : undefined;
  }

  /**
   * Per-device VRAM a model keeps while asleep (its CUDA context), as the policy counts it:
   * undefined for a model that cannot sleep; 0 without an inventory (GPUs are not measured).
   */
  sleepVramOf(model: ModelConfig): number | undefined {
    if (!model.sleep) return undefined;
    return this.inventory ? model.sleep.vramBytes : 0;
  }

  /** Devices to show for a model: the pseudo device of exclusive mode is not a real one. */
  visibleDevices(devices: readonly string[]): string[] {
    return devices.filter((d) => d !== EXCLUSIVE_GPU);
  }

  /**
   * After stopping models, waits (bounded) until the GPUs really show the memory as free: a
   * process can hold VRAM for a moment after its container is gone. Skipped when unmeasurable.
   */
  async waitUntilFree(devices: readonly string[], needBytes: number | undefined, log: Logger): Promise<void> {
    const real = this.visibleDevices(devices);
    if (real.length === 0) return;
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
