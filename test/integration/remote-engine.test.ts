// A remote engine (engine.host: tcp://…): a dockerd in a network namespace of its own, reached
// over TCP (scripts/engines.sh start remote-docker). Model ports must be published on the
// engine host's address that swapdock reaches — a port on that host's 127.0.0.1 (what swapdock
// did before engine.address) cannot be reached from here — and swapdock must connect there.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type Docker from 'dockerode';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_SPEC_HASH } from '../../src/runtime/labels.js';
import { ReadinessTimeoutError } from '../../src/runtime/runtime-errors.js';
import { waitForReady } from '../../src/runtime/wait-for-ready.js';
import { silentLog } from '../support/app-harness.js';
import { chatBody, runInstance } from '../support/engine-harness.js';
import { cleanupRemoteByLabel, ensureRemoteFakeModelImage, remoteEngine, requireRemoteEngine } from '../support/remote-engine.js';
import { runtimeContract, testRunLabels } from '../contract/runtime-contract.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, upstreamModel: org/remote-7b }
  crashes: { image: {{IMAGE}}, pull: never, env: { FAKE_EXIT_ON_START: "3" } }
`;

describe(`swapdock with a remote engine (${remoteEngine.host}, a dockerd in its own network namespace)`, () => {
  let remote: Docker | null = null;
  let image = '';
  before(async () => {
    remote = await requireRemoteEngine();
    if (remote) image = await ensureRemoteFakeModelImage(remote);
  });

  it("the old behaviour fails there: a port published on the engine host's 127.0.0.1 is unreachable from swapdock", async (t: TestContext) => {
    if (!remote) return t.skip('engine not available');
    // address 127.0.0.1 = what swapdock did for every engine before engine.address.
    const runtime = new DockerRuntime({ host: remoteEngine.host, address: '127.0.0.1' });
    const labels = await testRunLabels(runtime, 'remote-engine-loopback');
    try {
      const spec = { name: `swapdock-remote-loopback-${labels['io.swapdock.test-run']}`, image, pull: 'never' as const, env: {}, volumes: [], port: 8000, stopTimeoutMs: 1_000, labels: { ...labels, [LABEL_SPEC_HASH]: 'h' } };
      const info = await runtime.start((await runtime.create(spec)).id);
      assert.equal(info.state, 'running');
      assert.equal(info.endpoint?.host, '127.0.0.1');
      const binding = (await remote.getContainer(info.id).inspect()).NetworkSettings.Ports['8000/tcp']?.[0];
      assert.equal(binding?.HostIp, '127.0.0.1', "published on the remote host's loopback");
      await assert.rejects(
        waitForReady({ runtime, containerId: info.id, endpoint: info.endpoint!, healthPath: '/health', timeoutMs: 2_000 }),
        (err) => err instanceof ReadinessTimeoutError,
        'the server runs there, but 127.0.0.1 here is another host',
      );
      const logs = await runtime.logs(info.id, 20);
      assert.ok(logs.some((l) => l.includes('fake-model: listening on')), `it does listen on its side: ${logs.join('\n')}`);
    } finally {
      await cleanupRemoteByLabel(remote, labels);
    }
  });

  describe('swapdock serving through the remote engine (engine.host only; address defaults to its host)', () => {
    let sd: RunningServer | undefined;
    const instance = runInstance('remote');
    const owned = { [LABEL_MANAGED_BY]: 'swapdock', [LABEL_INSTANCE]: instance };
    before(async () => {
      if (!remote) return;
      const yaml = `instance: ${instance}\nlisten: 127.0.0.1:0\nengine: { host: "${remoteEngine.host}" }\n${MODELS.replaceAll('{{IMAGE}}', image)}`;
      sd = await startServer({ config: parseConfigText(yaml, 'remote test config', {}), log: silentLog });
    });
    after(async () => {
      await sd?.shutdown().catch(() => undefined);
      if (remote) await cleanupRemoteByLabel(remote, owned);
    });

    it('starts the model there, published on 172.31.252.11 (never 0.0.0.0 or 127.0.0.1), and answers through swapdock', async (t: TestContext) => {
      if (!sd || !remote) return t.skip('engine not available');
      const res = await fetch(`${sd.url}/v1/chat/completions`, chatBody('chat'));
      assert.equal(res.status, 200, await res.clone().text());
      assert.match(((await res.json()) as any).choices[0].message.content, /model=org\/remote-7b/);
      const [container] = await remote.listContainers({ filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
      assert.ok(container, 'the container runs on the remote engine');
      const inspect = await remote.getContainer(container.Id).inspect();
      assert.deepEqual(inspect.HostConfig.PortBindings?.['8000/tcp']?.map((b: { HostIp: string }) => b.HostIp), [remoteEngine.ip]);
      assert.equal(inspect.NetworkSettings.Ports['8000/tcp']?.[0]?.HostIp, remoteEngine.ip);
      const streamed = await fetch(`${sd.url}/v1/chat/completions`, chatBody('chat', { stream: true, fake_chunks: 3 }));
      const events = (await streamed.text()).split('\n\n').filter(Boolean);
      assert.equal(events.at(-1), 'data: [DONE]');
      assert.equal(events.length, 4);
    });

    it("a container that exits at start there is 503 container_exited with its exit code and log lines, leaving nothing", async (t: TestContext) => {
      if (!sd || !remote) return t.skip('engine not available');
      const res = await fetch(`${sd.url}/v1/chat/completions`, chatBody('crashes'));
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'container_exited');
      assert.match(error.message, /exited with code 3/);
      assert.match(error.message, /simulated start failure/);
      const left = await remote.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`, 'io.swapdock.model=crashes'] } });
      assert.deepEqual(left, []);
    });
  });
});

// The whole runtime contract (lifecycle, logs, events, readiness) over TCP against that engine.
runtimeContract(`DockerRuntime contract on a remote Docker (${remoteEngine.host})`, async (t) => {
  const remote = await requireRemoteEngine(t);
  if (!remote) return null;
  const runtime = new DockerRuntime({ host: remoteEngine.host });
  const labels = await testRunLabels(runtime, 'runtime-contract-remote');
  return {
    runtime,
    image: await ensureRemoteFakeModelImage(remote),
    labels,
    cleanup: () => cleanupRemoteByLabel(remote, labels),
    removeByHand: async (id) => void (await remote.getContainer(id).remove({ force: true, v: true })),
  };
});
