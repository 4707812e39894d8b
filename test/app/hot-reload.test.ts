// Hot reload: unchanged models keep running untouched, removed ones drain and stop, changed ones
// are replaced after their requests in flight; a bad config is rejected and the old one kept.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../src/cli/start-server.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { chat, silentLog, waitFor } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const BASE = `instance: app-reload\nlisten: 127.0.0.1:0\ndefaults: { ttl: 0, stopTimeout: 1s }\n`;

async function serve(models: string) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'swapdock-reload-')), 'models.yaml');
  writeFileSync(file, BASE + models);
  const runtime = new FakeRuntime();
  const server = await startServer({ config: await loadConfigFile(file), log: silentLog, runtime, configFile: file, reloadPollIntervalMs: 100 });
  const post = (model: string, extra?: Record<string, unknown>) => fetch(`${server.url}/v1/chat/completions`, chat(model, extra));
  return { server, runtime, file, post, rewrite: (text: string) => writeFileSync(file, BASE + text) };
}

describe('hot reload', () => {
  it('applies the difference: unchanged keeps running, removed stops, changed is replaced after its stream', async () => {
    const { server, runtime, post, rewrite } = await serve(`models:
  keep: { image: fake-model:latest }
  drop: { image: fake-model:latest }
  change: { image: fake-model:latest, env: { VERSION: "1" } }
`);
    try {
      for (const m of ['keep', 'drop', 'change']) assert.equal((await post(m)).status, 200);
      const keepId = server.scheduler.snapshotOf('keep')!.containerId;
      const stream = await post('change', { stream: true, fake_chunks: 6, fake_chunk_delay_ms: 100 });
      const streamText = stream.text();
      rewrite(`models:
  keep: { image: fake-model:latest }
  change: { image: fake-model:latest, env: { VERSION: "2" } }
  added: { image: fake-model:latest }
`);
      const res = await fetch(`${server.url}/api/reload`, { method: 'POST' });
      assert.equal(res.status, 200);
      const { summary } = (await res.json()) as { summary: Record<string, string[]> };
      assert.deepEqual([summary.added, summary.removed, summary.changed, summary.unchanged], [['added'], ['drop'], ['change'], ['keep']]);
      assert.match(await streamText, /\[DONE\]/, 'the stream in flight completed');
      assert.equal(server.scheduler.snapshotOf('keep')!.containerId, keepId, 'unchanged model untouched');
      await waitFor(() => server.scheduler.snapshotOf('drop') === undefined, 3000, 'drop to be stopped and forgotten');
      assert.equal((await post('drop')).status, 404);
      await waitFor(() => server.scheduler.snapshotOf('change')!.status === 'stopped', 3000, 'change to be stopped');
      assert.equal((await post('change')).status, 200);
      const specs = runtime.createdSpecs.filter((s) => s.labels['io.swapdock.model'] === 'change');
      assert.deepEqual(specs.map((s) => s.env.VERSION), ['1', '2']);
      assert.equal((await post('added')).status, 200);
      const ids = ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
      assert.deepEqual(ids, ['keep', 'change', 'added']);
    } finally {
      await server.shutdown();
    }
  });

  it('rejects a config with errors, lists them, and keeps the running one', async () => {
    const { server, post, rewrite } = await serve(`models:\n  m: { image: fake-model:latest }\n`);
    try {
      assert.equal((await post('m')).status, 200);
      rewrite(`models:\n  m: { image: fake-model:latest, prot: 1 }\n`);
      const res = await fetch(`${server.url}/api/reload`, { method: 'POST' });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { code: string; message: string }; issues: { path: string }[] };
      assert.equal(body.error.code, 'invalid_config');
      assert.match(body.error.message, /unknown key 'prot'/);
      assert.deepEqual(body.issues.map((i) => i.path), ['models.m']);
      assert.equal((await post('m')).status, 200, 'still serving with the old config');
    } finally {
      await server.shutdown();
    }
  });

  it('notices a change of the file by itself', async () => {
    const { server, post, rewrite } = await serve(`models:\n  m: { image: fake-model:latest }\n`);
    try {
      assert.equal((await post('new-one')).status, 404);
      rewrite(`models:\n  m: { image: fake-model:latest }\n  new-one: { image: fake-model:latest }\n`);
      await waitFor(() => server.scheduler.snapshotOf('new-one') !== undefined, 5000, 'the file change to be picked up');
      assert.equal((await post('new-one')).status, 200);
    } finally {
      await server.shutdown();
    }
  });
});
