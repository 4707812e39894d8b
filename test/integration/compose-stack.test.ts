// The compose stack for real, on Docker and on Podman: the swapdock image built from this
// repository's Dockerfile (no registry: a local Node base, see swapdock-image.ts), then
// `docker-compose up` of swapdock (engine socket mounted, engine.network) and a client service
// that plays Open WebUI's part on the same network (the model list, a chat, a stream through
// http://swapdock:8080/v1). swapdock starts the model container on that network through the
// socket and reaches it by name; `docker-compose down` leaves no model container and no network.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { LABEL_INSTANCE, LABEL_MANAGED_BY } from '../../src/runtime/labels.js';
import { runInstance } from '../support/engine-harness.js';
import { cleanupByLabel, requireEngine, type EngineName } from '../support/engines.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';
import { copyImage, ensureSwapdockImage } from '../support/swapdock-image.js';

const COMPOSE_FILE = fileURLToPath(new URL('../fixtures/compose/stack.yaml', import.meta.url));
const MODEL = 'webui-chat';
const DNSNAME_PLUGIN = '/usr/lib/cni/dnsname';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function compose(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('docker-compose', ['-f', COMPOSE_FILE, ...args], { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error('docker-compose is not installed; the compose stack test needs it: apt-get install docker-compose'));
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const describeRun = (what: string, run: Run) => `${what} exited ${run.code}\n--- stdout\n${run.stdout.slice(-3000)}\n--- stderr\n${run.stderr.slice(-3000)}`;

let swapdockImage: string;
let baseImage: string;

before(async () => {
  const docker = await requireEngine('docker');
  assert.ok(docker, 'the Docker engine is required');
  ({ image: swapdockImage, base: baseImage } = await ensureSwapdockImage(docker.socketPath));
});

function composeSuite(engine: EngineName): void {
  describe(`the compose stack on ${engine}`, () => {
    const instance = runInstance('compose');
    const network = `swapdock-ci-${instance}`;
    const labels = { [LABEL_MANAGED_BY]: 'swapdock', [LABEL_INSTANCE]: instance };
    let socketPath: string;
    let api: Docker;
    let env: NodeJS.ProcessEnv;
    let dir: string;
    let clientOutput: { models: string[]; chat: string; streamChunks: number; streamText: string } | undefined;

    before(async () => {
      socketPath = (await requireEngine(engine))!.socketPath;
      api = new Docker({ socketPath });
      if (engine === 'podman') {
        // Podman 4.3 on CNI: without this plugin nothing on a network resolves another container's name.
        assert.ok(existsSync(DNSNAME_PLUGIN), `${DNSNAME_PLUGIN} is missing: apt-get install golang-github-containernetworking-plugin-dnsname`);
      }
      if (engine !== 'docker') await copyImage(swapdockImage, new Docker({ socketPath: '/var/run/docker.sock' }), api);
      const modelImage = await ensureFakeModelImage({ socketPath });
      dir = mkdtempSync(path.join(tmpdir(), 'swapdock-compose-'));
      const config = path.join(dir, 'models.yaml');
      writeFileSync(
        config,
        [
          'listen: 0.0.0.0:8080',
          `instance: ${instance}`,
          'engine:',
          '  host: unix:///var/run/docker.sock',
          `  network: ${network}`,
          'models:',
          `  ${MODEL}:`,
          `    image: ${modelImage}`,
          '    port: 8000',
          '    startTimeout: 60s',
          '    stopTimeout: 10s',
          `    env: { FAKE_MODEL_NAME: ${MODEL} }`,
          '',
        ].join('\n'),
      );
      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(engine === 'docker' ? {} : { DOCKER_HOST: `unix://${socketPath}` }),
        COMPOSE_PROJECT_NAME: instance,
        NODE_IMAGE: baseImage,
        SWAPDOCK_IMAGE: swapdockImage,
        ENGINE_SOCKET: socketPath,
        SWAPDOCK_CONFIG: config,
        CLIENT_IMAGE: modelImage,
        SWAPDOCK_NETWORK: network,
        MODEL,
      };
    });

    after(async () => {
      // Whatever a failed test left: the stack, model containers, the network.
      if (env) await compose(['down', '--timeout', '5'], env).catch(() => undefined);
      if (socketPath) {
        await cleanupByLabel(socketPath, labels);
        await cleanupByLabel(socketPath, { 'com.docker.compose.project': instance });
        await api.getNetwork(network).remove().catch(() => undefined);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('up: the Open WebUI stand-in lists models, chats and streams through http://swapdock:8080/v1', async () => {
      const up = await compose(['up', '-d', '--no-build', 'swapdock'], env);
      assert.equal(up.code, 0, describeRun('docker-compose up', up));
      const client = await compose(['run', '--rm', 'webui'], env);
      if (client.code !== 0) {
        const logs = await compose(['logs', '--no-color', 'swapdock'], env);
        assert.fail(`${describeRun('the client service', client)}\n--- swapdock's log\n${logs.stdout.slice(-4000)}`);
      }
      clientOutput = JSON.parse(client.stdout.trim().split('\n').at(-1)!);
      assert.ok(clientOutput!.models.includes(MODEL));
      assert.ok(clientOutput!.chat.length > 0);
      assert.ok(clientOutput!.streamChunks > 0 && clientOutput!.streamText.length > 0);
    });

    it('swapdock started the model container on the stack network through the socket', async () => {
      assert.ok(clientOutput, 'the client did not get through');
      const models = await api.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
      assert.equal(models.length, 1, JSON.stringify(models.map((c) => c.Names)));
      const model = await api.getContainer(models[0]!.Id).inspect();
      assert.equal(model.State.Running, true);
      assert.equal(model.Config.Labels['io.swapdock.model'], MODEL);
      assert.deepEqual(Object.keys(model.NetworkSettings.Networks), [network]);
      // Reached by name on the network, not through a port published on the host.
      assert.deepEqual(Object.values(model.HostConfig.PortBindings ?? {}).flat().filter(Boolean), []);
      const [swapdock] = await api.listContainers({ filters: { label: [`com.docker.compose.project=${instance}`, 'com.docker.compose.service=swapdock'] } });
      assert.ok(swapdock, 'the swapdock service container is not running');
      assert.ok(Object.keys(swapdock.NetworkSettings.Networks).includes(network));
    });

    it('down: swapdock stops its model containers, so no container and no network are left', async () => {
      const down = await compose(['down', '--timeout', '60'], env);
      assert.equal(down.code, 0, describeRun('docker-compose down', down));
      const left = await api.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
      assert.deepEqual(left.map((c) => `${c.Names.join(',')} ${c.State}`), []);
      const stack = await api.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${instance}`] } });
      assert.deepEqual(stack.map((c) => c.Names.join(',')), []);
      const networks = await api.listNetworks({ filters: { name: [network] } });
      assert.deepEqual(networks.map((n) => n.Name).filter((n) => n === network), []);
    });
  });
}

composeSuite('docker');
composeSuite('podman');
