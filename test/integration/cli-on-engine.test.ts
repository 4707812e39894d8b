// `swapdock load | ps | logs | unload` as a user runs them (child processes of the CLI) against a
// swapdock that drives real containers on Docker: the load starts a container, ps shows it ready
// on the engine, logs prints that container's own output, unload removes it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { useSwapdockOnEngine } from '../support/engine-harness.js';
import { cliEntry } from '../support/cli.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat: { image: {{IMAGE}}, pull: never, aliases: [c], upstreamModel: org/chat-7b }
  other: { image: {{IMAGE}}, pull: never }
`;

const tsx = import.meta.resolve('tsx');

/** The CLI as a child process (never spawnSync: the server under test runs in this process). */
function swapdock(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', tsx, cliEntry, ...args], { env: { ...process.env, SWAPDOCK_URL: '', SWAPDOCK_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('the swapdock CLI against real containers on docker', () => {
  const fixture = useSwapdockOnEngine('docker', MODELS);
  const containersOf = async (model: string) => (await fixture.sd!.containers()).filter((c) => c.Labels['io.swapdock.model'] === model);

  it('load starts the container, ps shows it, logs prints its output, unload removes it', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const url = ['--url', fixture.sd.url];

    const load = await swapdock(['load', 'c', ...url]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /^Loaded chat \(alias c\) in [\d.]+ m?s: ready\.$/m);
    const [container] = await containersOf('chat');
    assert.equal(container?.State, 'running', 'the load started a container on the engine');

    const ps = await swapdock(['ps', '--json', ...url]);
    assert.equal(ps.code, 0, ps.stderr);
    const models = (JSON.parse(ps.stdout) as { models: { id: string; status: string }[] }).models;
    assert.deepEqual(models.map((m) => [m.id, m.status]), [['chat', 'ready'], ['other', 'stopped']]);
    const table = await swapdock(['ps', ...url]);
    assert.match(table.stdout, /^chat\s+ready\s/m);

    const logs = await swapdock(['logs', 'chat', ...url]);
    assert.equal(logs.code, 0, logs.stderr);
    const started = /^fake-model: starting pid=\d+ .*$/m.exec(logs.stdout)?.[0];
    assert.ok(started, `the container's start line in:\n${logs.stdout}`);
    const engineLog = (await fixture.sd.docker.getContainer(container!.Id).logs({ stdout: true, stderr: true })).toString('latin1');
    assert.ok(engineLog.includes(started), 'the same line is in the engine\'s log of that container');

    const unload = await swapdock(['unload', 'chat', ...url]);
    assert.equal(unload.code, 0, unload.stderr);
    assert.match(unload.stdout, /Unloaded chat/);
    assert.equal(fixture.sd.scheduler.snapshotOf('chat')!.status, 'stopped');
    assert.deepEqual(
      (await containersOf('chat')).filter((c) => c.State === 'running'),
      [],
      'no container of the model runs after unload',
    );
  });

  it('an unknown model exits 1 naming it and the models that exist', async (t: TestContext) => {
    if (!fixture.sd) return t.skip('engine not available');
    const res = await swapdock(['load', 'nope', '--url', fixture.sd.url]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /has no model 'nope'\. Its models: chat \(alias c\), other\./);
  });
});
