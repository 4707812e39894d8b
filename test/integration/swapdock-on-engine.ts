// The end-to-end suite: swapdock in front of real containers, run on Docker and on Podman.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { EngineName } from '../support/engines.js';
import { chatBody, startOnEngine, useSwapdockOnEngine } from '../support/engine-harness.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 2s, startTimeout: 60s }
models:
  chat:
    image: {{IMAGE}}
    pull: never
    aliases: [chat-alias]
    upstreamModel: org/chat-7b
    env: { FAKE_READY_DELAY_MS: "200" }
  short-lived: { image: {{IMAGE}}, pull: never, ttl: 1s }
  crashes: { image: {{IMAGE}}, pull: never, env: { FAKE_EXIT_ON_START: "3" } }
  never-ready: { image: {{IMAGE}}, pull: never, startTimeout: 1500ms, env: { FAKE_READY_DELAY_MS: "600000" } }
  no-image: { image: swapdock-test/does-not-exist:1, pull: never }
  stubborn: { image: {{IMAGE}}, pull: never, stopTimeout: 1s, env: { FAKE_IGNORE_SIGTERM: "1" } }
  squatted: { image: {{IMAGE}}, pull: never }
`;

export function swapdockOnEngine(engine: EngineName): void {
  describe(`swapdock on ${engine}`, () => {
    const fixture = useSwapdockOnEngine(engine, MODELS);

    const post = (model: string, extra?: Record<string, unknown>) => fetch(`${fixture.sd!.url}/v1/chat/completions`, chatBody(model, extra));
    const modelContainers = async (model: string) => (await fixture.sd!.containers()).filter((c) => c.Labels['io.swapdock.model'] === model);

    it('starts a model on its first request and forwards to it', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await fixture.sd.containers()).length, 0, 'nothing runs before a request');
      const res = await post('chat-alias');
      assert.equal(res.status, 200);
      assert.match((await res.json() as any).choices[0].message.content, /model=org\/chat-7b/);
      const [container] = await modelContainers('chat');
      assert.ok(container);
      assert.equal(container.State, 'running');
      const inspect = await fixture.sd.docker.getContainer(container.Id).inspect();
      assert.equal(inspect.HostConfig.Init, true);
      assert.equal(inspect.Config.Labels['io.swapdock.managed-by'], 'swapdock');
      assert.match(inspect.Config.Labels['io.swapdock.spec-hash'] ?? '', /^[0-9a-f]{16}$/);
      const binding = inspect.HostConfig.PortBindings?.['8000/tcp']?.[0];
      assert.equal(binding?.HostIp, '127.0.0.1', 'published on loopback only');
    });

    it('streams through the real container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const res = await post('chat', { stream: true, fake_chunks: 5 });
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const events = (await res.text()).split('\n\n').filter(Boolean);
      assert.equal(events.length, 6);
      assert.equal(events.at(-1), 'data: [DONE]');
    });

    it('concurrent cold requests share one container', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const all = await Promise.all(Array.from({ length: 6 }, () => post('short-lived')));
      assert.deepEqual(all.map((r) => r.status), Array(6).fill(200));
      await Promise.all(all.map((r) => r.text()));
      assert.equal((await modelContainers('short-lived')).length, 1);
    });

    it('stops and removes a model after its idle TTL', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const deadline = Date.now() + 15_000;
      while ((await modelContainers('short-lived')).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await modelContainers('short-lived')).length, 0);
      assert.equal(fixture.sd.scheduler.snapshotOf('short-lived')!.status, 'stopped');
    });

    it('a container that exits while starting fails fast with its last log lines, leaving nothing', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const started = Date.now();
      const res = await post('crashes');
      assert.equal(res.status, 503);
      const { error } = (await res.json()) as any;
      assert.match(error.message, /exit(ed)?( with)?( code)? 3/i);
      assert.match(error.message, /simulated start failure/);
      assert.ok(Date.now() - started < 30_000, 'did not wait for the 60 s start timeout');
      assert.equal((await modelContainers('crashes')).length, 0);
    });

    it('a health check that never passes hits startTimeout, leaving nothing', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const res = await post('never-ready');
      assert.equal(res.status, 503);
      assert.match((await res.json() as any).error.message, /not ready|timed out|timeout/i);
      assert.equal((await modelContainers('never-ready')).length, 0);
    });

    it('a missing image is a clear error, leaving nothing', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const res = await post('no-image');
      assert.equal(res.status, 503);
      assert.match((await res.json() as any).error.message, /swapdock-test\/does-not-exist:1/);
      assert.equal((await modelContainers('no-image')).length, 0);
    });

    it('never touches a foreign container that holds the name swapdock wants', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      const name = `swapdock-${fixture.sd.instance}-squatted`;
      const foreign = await fixture.sd.docker.createContainer({ Image: fixture.image, name, Labels: { 'io.swapdock.test-foreign': fixture.sd.instance } });
      try {
        const res = await post('squatted');
        assert.equal(res.status, 503);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(error.code, 'container_name_taken');
        assert.match(error.message, /not created by swapdock/);
        assert.equal((await foreign.inspect()).Name, `/${name}`, 'the foreign container is still there');
      } finally {
        await foreign.remove({ force: true });
      }
    });

    it('a backend that ignores SIGTERM is killed after stopTimeout', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await post('stubborn')).status, 200);
      const started = Date.now();
      await fixture.sd.scheduler.unload('stubborn');
      assert.equal((await modelContainers('stubborn')).length, 0);
      assert.ok(Date.now() - started < 15_000, 'stop escalated to SIGKILL instead of hanging');
    });

    it('a swapdock killed and restarted adopts its unchanged containers and removes the rest', async (t: TestContext) => {
      if (!fixture.sd) return t.skip('engine not available');
      assert.equal((await post('chat')).status, 200);
      assert.equal((await post('short-lived')).status, 200);
      const before = await modelContainers('chat');
      assert.equal(before.length, 1);
      // Simulate SIGKILL: the server goes away without stopping its containers.
      fixture.sd.server.closeAllConnections();
      await new Promise((r) => fixture.sd!.server.close(r));
      const changed = MODELS.replace('short-lived: { image: {{IMAGE}}, pull: never, ttl: 1s }', 'short-lived: { image: {{IMAGE}}, pull: never, ttl: 1s, env: { CHANGED: "1" } }');
      const second = await startOnEngine(fixture.socketPath, fixture.image, changed, fixture.sd.instance);
      try {
        const after = await second.containers();
        assert.deepEqual(after.map((c) => c.Id), [before[0]!.Id], 'chat adopted as is; the changed model removed; no duplicate');
        assert.equal(second.scheduler.snapshotOf('chat')!.status, 'ready', 'ready without a reload');
        const res = await fetch(`${second.url}/v1/chat/completions`, chatBody('chat'));
        assert.equal(res.status, 200);
        assert.equal((await second.containers()).length, 1);
      } finally {
        await second.shutdown();
      }
      assert.equal((await second.containers()).length, 0, 'shutdown removes every container');
    });
  });
}
