// `swapdock serve` as a process on a real engine: SIGTERM stops accepting, lets the request in
// flight finish, stops the model containers and exits 0.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { spawnCli, waitForLogLine } from '../support/cli.js';
import { cleanupByLabel, requireEngine } from '../support/engines.js';
import { ensureFakeModelImage } from '../support/fake-model-image.js';

describe('swapdock serve', () => {
  it('drains and cleans up on SIGTERM', async (t: TestContext) => {
    const engine = await requireEngine('docker', t);
    if (!engine) return;
    const image = await ensureFakeModelImage(engine);
    const instance = `it-cli-${randomBytes(3).toString('hex')}`;
    const labels = { 'io.swapdock.instance': instance };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'swapdock-serve-')), 'models.yaml');
    writeFileSync(file, `instance: ${instance}\nengine: { host: "unix://${engine.socketPath}" }\nmodels:\n  m: { image: ${image}, pull: never, stopTimeout: 2s }\n`);
    const child = spawnCli(['serve', '--config', file, '--listen', '127.0.0.1:0']);
    const docker = new Docker({ socketPath: engine.socketPath });
    const ours = () => docker.listContainers({ all: true, filters: { label: [`io.swapdock.instance=${instance}`] } });
    try {
      const { url } = (await waitForLogLine(child, (l) => typeof l.url === 'string')) as { url: string };
      // Load the model first: a streaming request to a cold model gets its SSE head at once.
      assert.equal((await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) })).status, 200);
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', stream: true, fake_chunks: 10, fake_chunk_delay_ms: 100, messages: [] }),
      });
      assert.equal(res.status, 200);
      assert.equal((await ours()).length, 1);
      // SIGHUP reloads the config: a model added to the file becomes available.
      const reloaded = waitForLogLine(child, (l) => typeof l.msg === 'string' && l.msg.startsWith('Config reloaded'));
      writeFileSync(file, `instance: ${instance}\nengine: { host: "unix://${engine.socketPath}" }\nmodels:\n  m: { image: ${image}, pull: never, stopTimeout: 2s }\n  added: { image: ${image}, pull: never }\n`);
      child.kill('SIGHUP');
      assert.deepEqual(((await reloaded) as { added: string[] }).added, ['added']);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      assert.deepEqual(models.data.map((d) => d.id), ['m', 'added']);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const text = await res.text();
      assert.match(text, /data: \[DONE\]/, 'the stream in flight completed');
      assert.equal(text.split('\n\n').filter(Boolean).length, 11);
      assert.equal(await exited, 0);
      assert.equal((await ours()).length, 0, 'no container left behind');
    } finally {
      child.kill('SIGKILL');
      await cleanupByLabel(engine.socketPath, labels);
    }
  });
});
