// Hot reload: unchanged models keep running untouched, removed ones drain and stop, changed ones
// are replaced after their requests in flight; a bad config is rejected and the old one kept.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { startServer } from '../../src/cli/start-server.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { chat, silentLog, waitFor } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const BASE = `instance: app-reload\nlisten: 127.0.0.1:0\ndefaults: { ttl: 0, stopTimeout: 1s }\n`;

async function serve(models: string, log: pino.Logger = silentLog) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'swapdock-reload-')), 'models.yaml');
  writeFileSync(file, BASE + models);
  const runtime = new FakeRuntime();
  const server = await startServer({ config: await loadConfigFile(file), log, runtime, configFile: file, reloadPollIntervalMs: 100 });
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

  it("logs the config's warnings (those of `swapdock check`) at start-up and after each reload", async () => {
    const lines: { level: number; msg: string; model?: string }[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => done(void lines.push(JSON.parse(String(chunk)))) }));
    const warnings = () => lines.splice(0).filter((l) => l.level === 40);
    const GPUS = 'gpus: [{ id: 0, vram: 24g }]\n';
    const { server, rewrite } = await serve(`${GPUS}models:
  plain: { image: fake-model:latest }
  vllm: { image: fake-model:latest, gpus: 1, vram: 8g, command: [--model, Q], sleep: { kind: vllm } }
`, log);
    try {
      const atStart = warnings();
      assert.equal(atStart.length, 1, JSON.stringify(atStart));
      assert.equal(atStart[0]!.model, 'vllm');
      assert.match(atStart[0]!.msg, /^models\.vllm: sleep\.kind is vllm but its command lacks --enable-sleep-mode/);

      rewrite(`${GPUS}engine: { sleepMemory: 10g }
models:
  vllm: { image: fake-model:latest, gpus: 1, vram: 8g, command: [--model, Q, --enable-sleep-mode], sleep: { kind: vllm } }
  vllm-2: { image: fake-model:latest, gpus: 1, vram: 8g, command: [--enable-sleep-mode], sleep: { kind: vllm } }
`);
      assert.equal((await server.reload!('test')).reloaded, true);
      const afterReload = warnings();
      assert.equal(afterReload.length, 1, JSON.stringify(afterReload));
      assert.equal(afterReload[0]!.model, undefined, 'about the engine, not one model');
      assert.match(afterReload[0]!.msg, /^engine\.sleepMemory: .*adds up to 16 GiB \(vllm 8 GiB, vllm-2 8 GiB\), more than engine\.sleepMemory \(10 GiB\)/);

      rewrite(`${GPUS}models:
  qwen: { image: fake-model:latest, gpus: 1, vram: 8g, command: [--enable-sleep-mode], sleep: { kind: vllm } }
  "qwen:8b": { image: fake-model:latest, gpus: 1, vram: 8g, command: [--model, Q], sleep: { kind: vllm } }
`);
      assert.equal((await server.reload!('test')).reloaded, true);
      assert.deepEqual(warnings().map((w) => w.model), ['qwen:8b'], 'an id with a colon, next to one it starts with');

      rewrite(`models:\n  plain: { image: fake-model:latest }\n`);
      assert.equal((await server.reload!('test')).reloaded, true);
      assert.deepEqual(warnings(), [], 'a config without warnings logs none');
    } finally {
      await server.shutdown();
    }
  });
});
