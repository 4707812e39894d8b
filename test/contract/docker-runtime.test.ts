import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { EngineUnavailableError } from '../../src/runtime/runtime-errors.js';
import { fastExitTest, networkModeTest } from './engine-only-contract.js';
import { engineRuntimeUnderTest, runtimeContract } from './runtime-contract.js';

runtimeContract('DockerRuntime contract on Docker', (t) => engineRuntimeUnderTest('docker', t));
networkModeTest('docker');
fastExitTest('docker');

test('an unreachable engine is EngineUnavailableError naming where it looked', async () => {
  for (const host of ['unix:///run/swapdock-no-such-engine.sock', 'tcp://127.0.0.1:1']) {
    const runtime = new DockerRuntime({ host });
    for (const call of [() => runtime.engineInfo(), () => runtime.list({ a: 'b' }), () => runtime.stop('x', 1000)]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof EngineUnavailableError, String(err));
        assert.ok(err.message.includes(host), err.message);
        assert.match(err.message, /DOCKER_HOST/);
        return true;
      });
    }
  }
});

test('engine host: explicit, DOCKER_HOST, else the first socket that exists; bad values are explained', () => {
  const saved = process.env.DOCKER_HOST;
  try {
    assert.equal(new DockerRuntime({ host: 'tcp://10.0.0.9:2375' }).target, 'tcp://10.0.0.9:2375');
    process.env.DOCKER_HOST = 'unix:///run/elsewhere.sock';
    assert.equal(new DockerRuntime({}).target, 'unix:///run/elsewhere.sock');
    delete process.env.DOCKER_HOST;
    assert.match(new DockerRuntime({}).target, /^unix:\/\/\/(var\/run\/docker|run\/podman\/podman)\.sock$/);
    assert.throws(() => new DockerRuntime({ host: 'docker.example:2375' }), (err) => err instanceof EngineError && /unix:\/\/\//.test(err.message));
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
});
