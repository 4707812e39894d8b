// Image pulls against a real registry (Debian's docker-registry on 127.0.0.1), on Docker and on
// Podman: a model whose image is only in the registry starts, and its pull progress shows in
// swapdock's log, in /api/events (`load`, phase "pull") and in the web UI; a tag the registry
// lacks is a 503 image_unavailable naming the image; `pull: always` with the registry down
// starts the local image; a registry with htpasswd auth is pulled from with engine.registryAuth
// or with the Docker config of swapdock's user, and without credentials the 503 says what to
// fix. The password shows nowhere: not in responses, /api/logs, /api/events.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { chromium } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY } from '../../src/runtime/labels.js';
import { silentLog } from '../support/app-harness.js';
import { chatBody, runInstance } from '../support/engine-harness.js';
import { cleanupByLabel, requireEngine, type EngineName } from '../support/engines.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';
import { buildUniqueImage, freeAddress, imageExists, pushImage, removeImages, startRegistry, type TestRegistry } from '../support/registry.js';
import { collectEvents } from '../support/sse-events.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = `s3cret-${Math.random().toString(36).slice(2)}-registry-pass`;
const USER = 'swapdock-ci';

// The Docker config of "swapdock's user" in this process: empty until a test writes a login.
const dockerConfigDir = mkdtempSync(path.join(tmpdir(), 'swapdock-docker-config-'));
process.env.DOCKER_CONFIG = dockerConfigDir;

interface Images {
  /** Only in the open registry. */
  pulled: string;
  /** Not in the open registry. */
  missing: string;
  /** Only in the private registry: for engine.registryAuth, and for the Docker config. */
  privateA: string;
  privateB: string;
  /** Name of an image on a registry that is down; each engine has it locally. */
  always: string;
}

let open: TestRegistry;
let closed: TestRegistry;
let images: Images;
let builder: Docker;

before(async () => {
  const docker = await requireEngine('docker');
  const podman = await requireEngine('podman');
  assert.ok(docker && podman, 'both engines are required');
  builder = new Docker({ socketPath: docker.socketPath });
  [open, closed] = await Promise.all([startRegistry(), startRegistry({ auth: { username: USER, password: PASSWORD } })]);
  const base = await ensureFakeModelImage(docker);
  const down = await freeAddress(); // nothing listens there: a registry that is down
  const tag = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);
  const [u1, u2, u3] = await Promise.all([1, 2, 3].map(() => buildUniqueImage(builder, base, 'swapdock-pull-test')));
  images = {
    pulled: `${open.host}/swapdock/pull-test:${tag(u1!)}`,
    missing: `${open.host}/swapdock/pull-test:no-such-tag`,
    privateA: `${closed.host}/swapdock/private:${tag(u2!)}`,
    privateB: `${closed.host}/swapdock/private:${tag(u3!)}`,
    always: `${down}/swapdock/always:${tag(u1!)}`,
  };
  const auth = { username: USER, password: PASSWORD, serveraddress: closed.host };
  // The two registries each take the base layer (~100 MB) once: in parallel.
  await Promise.all([pushImage(builder, u1!, images.pulled), pushImage(builder, u2!, images.privateA, auth)]);
  await pushImage(builder, u3!, images.privateB, auth);
  // Now only the registries hold them.
  await removeImages(builder, [u1!, u2!, u3!, images.pulled, images.privateA, images.privateB]);
});

after(async () => {
  await Promise.all([open?.destroy(), closed?.destroy()]);
  rmSync(dockerConfigDir, { recursive: true, force: true });
});

interface Swapdock extends RunningServer {
  instance: string;
}

function modelsYaml(socketPath: string, withAuth: boolean): string {
  return [
    `engine:`,
    `  host: unix://${socketPath}`,
    ...(withAuth ? [`  registryAuth:`, `    - { registry: "${closed.host}", username: ${USER}, password: "\${REGISTRY_PASSWORD}" }`] : []),
    `models:`,
    `  pulled: { image: "${images.pulled}", port: 8000, startTimeout: 60s }`,
    `  missing: { image: "${images.missing}", port: 8000 }`,
    `  always: { image: "${images.always}", pull: always, port: 8000, startTimeout: 60s }`,
    `  private-a: { image: "${images.privateA}", port: 8000, startTimeout: 60s }`,
    `  private-b: { image: "${images.privateB}", port: 8000, startTimeout: 60s }`,
  ].join('\n');
}

/** A whole swapdock as `serve` runs it: it makes its own DockerRuntime from the config. */
async function startSwapdock(socketPath: string, withAuth: boolean): Promise<Swapdock> {
  const instance = runInstance('reg');
  const text = `instance: ${instance}\nlisten: 127.0.0.1:0\n${modelsYaml(socketPath, withAuth)}\n`;
  const config = parseConfigText(text, 'test config', { REGISTRY_PASSWORD: PASSWORD });
  return { ...(await startServer({ config, log: silentLog })), instance };
}

async function chat(sd: Swapdock, model: string) {
  const res = await fetch(`${sd.url}/v1/chat/completions`, chatBody(model));
  return { status: res.status, text: await res.text() };
}

async function ownLog(sd: Swapdock): Promise<Array<{ level: string; msg: string }>> {
  return ((await (await fetch(`${sd.url}/api/logs?follow=false`)).json()) as { lines: Array<{ level: string; msg: string }> }).lines;
}

function registrySuite(engine: EngineName): void {
  describe(`pulls from a registry on ${engine}`, () => {
    let socketPath: string;
    let engineApi: Docker;
    let sd: Swapdock;
    let noAuth: Swapdock | undefined;
    let events: ReturnType<typeof collectEvents>;

    before(async () => {
      socketPath = (await requireEngine(engine))!.socketPath;
      engineApi = new Docker({ socketPath });
      // The local copy `pull: always` falls back to, under the down registry's name.
      const local = await ensureFakeModelImage({ socketPath });
      const always = images.always;
      await engineApi.getImage(local).tag({ repo: always.slice(0, always.lastIndexOf(':')), tag: always.slice(always.lastIndexOf(':') + 1) });
      for (const ref of [images.pulled, images.privateA, images.privateB]) assert.equal(await imageExists(engineApi, ref), false, `${ref} must not be on ${engine} yet`);
      sd = await startSwapdock(socketPath, true);
      events = collectEvents(`${sd.url}/api/events`);
    });

    after(async () => {
      events?.close();
      for (const s of [sd, noAuth]) {
        if (!s) continue;
        await s.shutdown().catch(() => undefined);
        await cleanupByLabel(socketPath, { [LABEL_MANAGED_BY]: 'swapdock', [LABEL_INSTANCE]: s.instance });
      }
      await removeImages(engineApi, [images.pulled, images.privateA, images.privateB, images.always]);
    });

    it(`starts a model whose image is only in the registry, with pull progress in the log, /api/events${engine === 'docker' ? ' and the web UI' : ''}`, async () => {
      const watchUi = engine === 'docker' && existsSync(CHROMIUM);
      if (engine === 'docker') assert.ok(watchUi, `${CHROMIUM} is missing: apt-get install chromium (the UI part of this test needs it)`);
      const browser = watchUi
        ? await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
        : undefined;
      try {
        const page = await browser?.newPage();
        if (page) {
          await page.goto(`${sd.url}/ui`);
          await page.waitForFunction("document.querySelector('#conn')?.textContent?.includes('live')", undefined, { timeout: 10_000 });
        }
        const res = await chat(sd, 'pulled');
        assert.equal(res.status, 200, res.text);
        assert.equal(await imageExists(engineApi, images.pulled), true);

        const pullEvents = events.events.filter((e) => e.event === 'load' && e.data.model === 'pulled' && e.data.phase === 'pull');
        assert.ok(pullEvents.length > 0, `no load event with phase "pull": ${JSON.stringify(events.events.map((e) => e.event))}`);
        assert.ok(pullEvents.every((e) => e.data.message.startsWith(`Pulling image ${images.pulled}: `)), JSON.stringify(pullEvents));

        const logged = (await ownLog(sd)).map((l) => l.msg);
        assert.ok(logged.some((m) => m.startsWith(`Pulling image ${images.pulled}: `)), logged.join('\n'));
        if (page) {
          const expected = `pulled pull: Pulling image ${images.pulled}: `;
          await page.waitForFunction(`document.querySelector('#activity')?.textContent?.includes(${JSON.stringify(expected)})`, undefined, { timeout: 10_000 });
        }
      } finally {
        await browser?.close();
      }
    });

    it('answers 503 image_unavailable naming the image for a tag the registry does not have', async () => {
      const res = await chat(sd, 'missing');
      assert.equal(res.status, 503, res.text);
      const body = JSON.parse(res.text) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'image_unavailable');
      assert.ok(body.error.message.includes(`'${images.missing}'`), body.error.message);
      assert.match(body.error.message, /pulling it failed: .*(manifest unknown|not found)/i);
    });

    it('with pull: always and the registry down, starts the local image and says so in the log', async () => {
      const res = await chat(sd, 'always');
      assert.equal(res.status, 200, res.text);
      const warning = (await ownLog(sd)).find((l) => l.level === 'warn' && l.msg === 'Pull failed; using the local image');
      assert.ok(warning, 'no warning about the failed pull');
      assert.match(JSON.stringify(warning), /connection refused|dial tcp|connect/i);
    });

    it('pulls from a registry with htpasswd auth with engine.registryAuth', async () => {
      const res = await chat(sd, 'private-a');
      assert.equal(res.status, 200, res.text);
      assert.equal(await imageExists(engineApi, images.privateA), true);
    });

    it("without credentials says which to give; then pulls with the Docker config of swapdock's user", async () => {
      noAuth = await startSwapdock(socketPath, false);
      const refused = await chat(noAuth, 'private-b');
      assert.equal(refused.status, 503, refused.text);
      const { error } = JSON.parse(refused.text) as { error: { code: string; message: string } };
      assert.equal(error.code, 'image_unavailable');
      assert.ok(error.message.includes(`no credentials were found for '${closed.host}'`), error.message);
      assert.ok(error.message.includes('engine.registryAuth'), error.message);

      // `docker login` writes this; it is read at the next pull, no restart needed.
      writeFileSync(
        path.join(dockerConfigDir, 'config.json'),
        JSON.stringify({ auths: { [closed.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
      );
      try {
        const res = await chat(noAuth, 'private-b');
        assert.equal(res.status, 200, res.text);
        assert.equal(await imageExists(engineApi, images.privateB), true);
      } finally {
        rmSync(path.join(dockerConfigDir, 'config.json'), { force: true });
      }
    });

    it('shows the registry password nowhere: not in /api/logs, /api/events, /api/models or errors', async () => {
      const seen = [
        JSON.stringify(await ownLog(sd)),
        JSON.stringify(noAuth ? await ownLog(noAuth) : []),
        JSON.stringify(events.events),
        await (await fetch(`${sd.url}/api/models`)).text(),
        (await chat(sd, 'missing')).text,
      ].join('\n');
      assert.ok(seen.includes(closed.host), 'the private registry should appear (as a name) in what was seen');
      assert.ok(!seen.includes(PASSWORD), 'the registry password leaked');
    });
  });
}

registrySuite('docker');
registrySuite('podman');
