// Contract cases that need a real engine (the fake runtime has no networks and runs every
// container as the fake model), run by docker-runtime.test.ts and podman-runtime.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import Docker from 'dockerode';
import { LABEL_SPEC_HASH } from '../../src/runtime/labels.js';
import { ContainerExitedError } from '../../src/runtime/runtime-errors.js';
import { waitForReady } from '../../src/runtime/wait-for-ready.js';
import { engineSockets } from '../support/engines.js';
import { engineRuntimeUnderTest, startedOrExited } from './runtime-contract.js';

/** Engines only (the fake has no networks): a spec with `network` joins it and is reached by name. */
export function networkModeTest(engine: 'docker' | 'podman'): void {
  test(`DockerRuntime on ${engine}: a spec with a network joins it and its endpoint is the container name`, async (t) => {
    const setup = await engineRuntimeUnderTest(engine, t);
    if (!setup) return;
    const docker = new Docker({ socketPath: engine === 'docker' ? engineSockets.docker : engineSockets.podman });
    const network = `swapdock-contract-net-${setup.labels['io.swapdock.test-run']}`;
    await docker.createNetwork({ Name: network, Labels: setup.labels });
    try {
      const name = `${network}-member`;
      const base = { name, image: setup.image, pull: 'never' as const, env: {}, volumes: [], port: 8000, stopTimeoutMs: 1_000 };
      const plain = await setup.runtime.start((await setup.runtime.create({ ...base, network, labels: setup.labels })).id);
      assert.deepEqual(plain.endpoint, { host: name, port: 8000 });
      await setup.runtime.remove(plain.id);
      // GPU specs take Podman's libpod path, which names networks differently.
      const gpu = await setup.runtime.create({ ...base, network, labels: setup.labels, gpus: { kind: 'all' } });
      if (engine === 'podman') assert.deepEqual((await setup.runtime.start(gpu.id)).endpoint, { host: name, port: 8000 });
    } finally {
      await setup.cleanup();
      await docker.getNetwork(network).remove();
    }
  });
}

/**
 * Engines only (the fake runs every container as the fake model): a container whose process
 * exits within milliseconds of its start (node with a bad option) races start()'s inspect. Each
 * round must end in ContainerExitedError with the exit code and the process's last line — from
 * start() or from waitForReady — never in a running container without an endpoint.
 */
export function fastExitTest(engine: 'docker' | 'podman', rounds = 12): void {
  test(`DockerRuntime on ${engine}: a container that exits right after its start is ContainerExitedError with exit code and log line (${rounds} rounds)`, async (t) => {
    const setup = await engineRuntimeUnderTest(engine, t);
    if (!setup) return;
    const { runtime } = setup;
    const run = randomBytes(3).toString('hex');
    let fromStart = 0;
    try {
      for (let i = 0; i < rounds; i++) {
        const { id, info, exited } = await startedOrExited(runtime, {
          name: `swapdock-contract-fastexit-${run}-${i}`, image: setup.image, pull: 'never', env: {}, volumes: [], port: 8000, stopTimeoutMs: 1_000,
          entrypoint: ['/usr/bin/node', '--swapdock-no-such-option'],
          labels: { ...setup.labels, [LABEL_SPEC_HASH]: 'hash-1' },
        });
        if (exited) fromStart++;
        const err = exited ?? (await waitForReady({ runtime, containerId: id, endpoint: info!.endpoint!, healthPath: '/health', timeoutMs: 30_000 })
          .then(() => assert.fail('ready?'), (e: unknown) => e));
        assert.ok(err instanceof ContainerExitedError, `round ${i}: ${String(err)}`);
        assert.equal(err.exitCode, 9, `round ${i}: node exits 9 on a bad option`);
        assert.ok(err.lastLogLines.some((l) => l.includes('bad option: --swapdock-no-such-option')), `round ${i}: ${err.message}`);
        await runtime.remove(id);
      }
      t.diagnostic(`${fromStart} of ${rounds} exits were seen by start() itself`);
    } finally {
      await setup.cleanup();
    }
  });
}
