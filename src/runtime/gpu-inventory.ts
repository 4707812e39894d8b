// The host's GPUs as the scheduler sees them: detected with nvidia-smi when the config does not
// list them, and their memory in use, so a swap can wait until a stopped model's VRAM is free.
import { execFile } from 'node:child_process';
import type { GpuDevice } from '../config/schema.js';

export interface GpuUsage {
  id: string;
  totalBytes: number;
  usedBytes: number;
}

export interface GpuInventory {
  /** Devices and their memory now, or undefined when this host cannot tell (no nvidia-smi). */
  read(): Promise<GpuUsage[] | undefined>;
}

const MIB = 1024 * 1024;

/** Reads `nvidia-smi --query-gpu`; every failure (not installed, no driver) means "cannot tell". */
export class NvidiaSmiInventory implements GpuInventory {
  constructor(private readonly command = process.env.SWAPDOCK_NVIDIA_SMI ?? 'nvidia-smi') {}

  read(): Promise<GpuUsage[] | undefined> {
    return new Promise((resolve) => {
      execFile(
        this.command,
        ['--query-gpu=index,memory.total,memory.used', '--format=csv,noheader,nounits'],
        { timeout: 5000 },
        (err, stdout) => resolve(err ? undefined : parseNvidiaSmi(stdout)),
      );
    });
  }
}

export function parseNvidiaSmi(csv: string): GpuUsage[] | undefined {
  const rows = csv
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(',').map((cell) => cell.trim()));
  const usage = rows.map(([id, total, used]) => ({ id: id ?? '', totalBytes: Number(total) * MIB, usedBytes: Number(used) * MIB }));
  const valid = usage.length > 0 && usage.every((u) => u.id !== '' && Number.isFinite(u.totalBytes) && Number.isFinite(u.usedBytes));
  return valid ? usage : undefined;
}

export function devicesFrom(usage: readonly GpuUsage[]): GpuDevice[] {
  return usage.map((u) => ({ id: u.id, vramBytes: u.totalBytes }));
}

/** For hosts without GPUs or tests: knows nothing. */
export const noGpuInventory: GpuInventory = { read: async () => undefined };
