import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load-config.js';
import { NvidiaSmiInventory, devicesFrom, parseNvidiaSmi, type GpuInventory, type GpuUsage } from '../../src/runtime/gpu-inventory.js';
import { GpuBudget } from '../../src/scheduler/gpu-budget.js';

const MIB = 1024 * 1024;

describe('nvidia-smi inventory', () => {
  it('parses the CSV nvidia-smi prints', () => {
    const usage = parseNvidiaSmi('0, 24576, 1024\n1, 24576, 0\n');
    assert.deepEqual(usage, [
      { id: '0', totalBytes: 24576 * MIB, usedBytes: 1024 * MIB },
      { id: '1', totalBytes: 24576 * MIB, usedBytes: 0 },
    ]);
    assert.deepEqual(devicesFrom(usage!), [{ id: '0', vramBytes: 24576 * MIB }, { id: '1', vramBytes: 24576 * MIB }]);
  });

  it('treats garbage or nothing as "cannot tell"', () => {
    assert.equal(parseNvidiaSmi(''), undefined);
    assert.equal(parseNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver'), undefined);
  });

  it('runs the nvidia-smi command, and says "cannot tell" when it is missing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-smi-'));
    const fake = path.join(dir, 'nvidia-smi');
    writeFileSync(fake, '#!/bin/sh\necho "0, 16384, 512"\n');
    chmodSync(fake, 0o755);
    assert.deepEqual(await new NvidiaSmiInventory(fake).read(), [{ id: '0', totalBytes: 16384 * MIB, usedBytes: 512 * MIB }]);
    assert.equal(await new NvidiaSmiInventory(path.join(dir, 'absent')).read(), undefined);
  });
});

describe('waiting for VRAM to be free after a stop', () => {
  const config = parseConfigText(`gpus: [{ id: 0, vram: 24g }]\nmodels:\n  m: { image: x, gpus: 1, vram: 20g }\n`, 't', {});
  const log = pino({ level: 'silent' });

  it('polls until the GPU shows enough free memory', async () => {
    let reads = 0;
    const probe: GpuInventory = {
      read: async (): Promise<GpuUsage[]> => {
        reads++;
        return [{ id: '0', totalBytes: 24 * 1024 * MIB, usedBytes: reads < 4 ? 20 * 1024 * MIB : 1024 * MIB }];
      },
    };
    await new GpuBudget(config, [{ name: 'default', inventory: config.engines[0]!.gpus, localGpus: true }], probe).waitUntilFree('default', ['0'], 20 * 1024 * MIB, log);
    assert.equal(reads, 4, 'returned as soon as the memory showed free');
  });

  it('does not wait when memory cannot be measured', async () => {
    let reads = 0;
    await new GpuBudget(config, [{ name: 'default', inventory: config.engines[0]!.gpus, localGpus: true }], { read: async () => (reads++, undefined) }).waitUntilFree('default', ['0'], 20 * 1024 * MIB, log);
    assert.equal(reads, 1);
  });

  it('does not wait for the GPUs of an engine on another host (nvidia-smi here cannot see them)', async () => {
    let reads = 0;
    await new GpuBudget(config, [{ name: 'rack', inventory: config.engines[0]!.gpus, localGpus: false }], { read: async () => (reads++, undefined) }).waitUntilFree('rack', ['0'], 20 * 1024 * MIB, log);
    assert.equal(reads, 0);
  });
});
