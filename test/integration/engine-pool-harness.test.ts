// The engine pool harness itself (test/support/engine-pool-harness.ts), with plain dockerode:
// two real dockerds, each in a network namespace of its own, one of them behind mutual TLS, both
// with the fake NVIDIA hook. What the multi-engine tests (issue 14) rely on is checked here.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { requireEnginePool, type EnginePool, type PoolEngine } from '../support/engine-pool-harness.js';

const LABELS = { 'io.swapdock.test': 'engine-pool-harness' };

async function runGpuModel(pool: EnginePool, e: PoolEngine, suffix: string): Promise<{ id: string; url: string }> {
  const c = await e.docker.createContainer({
    name: `pool-harness-${e.name}-${suffix}`,
    Image: pool.image,
    Labels: LABELS,
    ExposedPorts: { '8000/tcp': {} },
    StopTimeout: 1,
    HostConfig: {
      Init: true,
      DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['0'], Capabilities: [['gpu']] }],
      PortBindings: { '8000/tcp': [{ HostIp: e.ip, HostPort: '' }] },
    },
  });
  await c.start();
  const binding = (await c.inspect()).NetworkSettings.Ports['8000/tcp']?.[0];
  assert.equal(binding?.HostIp, e.ip, `published on ${e.name}'s own address`);
  return { id: c.id, url: `http://${e.ip}:${binding!.HostPort}` };
}

// A ref'd timer, not AbortSignal.timeout (unref'd): a connection docker-proxy accepted before the
// container listens can hang without keeping the event loop alive, and the test runner then
// cancels everything ("Promise resolution is still pending but the event loop has already resolved").
async function fetchWithin(url: string, ms: number): Promise<Response> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer from ${url} within ${ms} ms`)), ms);
  try {
    return await fetch(url, { signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function getOk(url: string, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetchWithin(url, 1000);
      if (res.ok) return res;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function within(ms: number, what: string, cond: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Math.round(performance.now() - t0);
}

const reachable = (url: string) => fetchWithin(url, 1000).then(() => true, () => false);

describe('engine pool harness: two dockerds in network namespaces of their own, over TCP, one with TLS', () => {
  let pool: EnginePool | null = null;
  const models = new Map<string, { id: string; url: string }>();

  before(async () => {
    const t0 = performance.now();
    pool = await requireEnginePool({ names: ['tower', 'rack'], tls: 'rack' });
    console.log(`engine pool of 2 up in ${Math.round(performance.now() - t0)} ms`);
  });
  after(async () => {
    const t0 = performance.now();
    await pool?.stop();
    console.log(`engine pool stopped in ${Math.round(performance.now() - t0)} ms`);
  });

  it('each engine listens on its own address (plain TCP on tower, TLS on rack) and has the fake-model image', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    assert.deepEqual(pool.engines.map((e) => [e.name, e.host]), [['tower', 'tcp://172.31.250.11:2375'], ['rack', 'tcp://172.31.250.12:2376']]);
    assert.equal(pool.engine('tower').tls, undefined);
    assert.ok(pool.engine('rack').tls?.cert);
    for (const e of pool.engines) {
      assert.equal(await pool.ping(e.name), true);
      await e.docker.getImage(pool.image).inspect();
      assert.deepEqual(await e.docker.listContainers({ all: true }), [], `${e.name} starts empty`);
    }
  });

  it('on each engine a GPU container (nvidia DeviceRequests) starts, published on that engine\'s address, and answers /health from here', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    for (const e of pool.engines) {
      const m = await runGpuModel(pool, e, 'a');
      models.set(e.name, m);
      const health = await getOk(`${m.url}/health`);
      assert.equal(health.status, 200);
      const env = (await (await getOk(`${m.url}/fake/env`)).json()) as Record<string, string>;
      assert.equal(env.NVIDIA_VISIBLE_DEVICES, '0', `${e.name}: the fake hook let the nvidia request through`);
      const inspect = await e.docker.getContainer(m.id).inspect();
      assert.deepEqual(inspect.HostConfig.DeviceRequests?.[0]?.DeviceIDs, ['0']);
    }
  });

  it('the TLS engine refuses a client without a certificate and plain HTTP, and serves one with them', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const rack = pool.engine('rack');
    const noCert = new Docker({ host: rack.ip, port: rack.port, protocol: 'https', ca: readFileSync(rack.tls!.ca) });
    await assert.rejects(noCert.ping(), (err: Error & { code?: string }) => {
      assert.match(`${err.code} ${err.message}`, /BAD_CERTIFICATE|CERTIFICATE_REQUIRED|ECONNRESET/, 'no client certificate: the handshake fails');
      return true;
    });
    const plain = new Docker({ host: rack.ip, port: rack.port, protocol: 'http' });
    await assert.rejects(plain.ping(), (err: Error & { statusCode?: number }) => {
      assert.equal(err.statusCode, 400);
      assert.match(err.message, /HTTP request to an HTTPS server/);
      return true;
    });
    const noCa = new Docker({ host: rack.ip, port: rack.port, protocol: 'https', cert: readFileSync(rack.tls!.cert), key: readFileSync(rack.tls!.key) });
    await assert.rejects(noCa.ping(), /unable to verify/, 'the server certificate is signed by the test CA only');
    assert.equal(String(await rack.docker.ping()), 'OK');
    assert.ok((await rack.docker.listContainers()).some((c) => c.Id === models.get('rack')?.id));
  });

  it('kill: the daemon and what it published stop answering within a few seconds; the other engine goes on', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const p = pool;
    const t0 = performance.now();
    await p.kill('rack');
    const killed = Math.round(performance.now() - t0);
    const pingGone = await within(3000, 'rack _ping failing', async () => !(await p.ping('rack', 500)));
    await within(3000, "rack's published port unreachable", async () => !(await reachable(`${models.get('rack')!.url}/health`)));
    t.diagnostic(`kill() ${killed} ms; then _ping failed after ${pingGone} ms`);
    console.log(`kill() resolved in ${killed} ms, _ping failing ${pingGone} ms later`);
    await assert.rejects(p.engine('rack').docker.ping());
    assert.equal(await p.ping('tower'), true);
    assert.equal((await getOk(`${models.get('tower')!.url}/health`)).status, 200, "tower's model still answers");
  });

  it('restart: same address and data-root (the image is still there); GPU containers start again', async (t: TestContext) => {
    if (!pool) return t.skip('engine pool not available');
    const t0 = performance.now();
    await pool.restart('rack');
    const took = Math.round(performance.now() - t0);
    console.log(`restart() until _ping OK: ${took} ms`);
    t.diagnostic(`restart() ${took} ms`);
    const rack = pool.engine('rack');
    assert.equal(await pool.ping('rack'), true);
    assert.equal(String(await rack.docker.ping()), 'OK');
    await rack.docker.getImage(pool.image).inspect();
    const old = await rack.docker.getContainer(models.get('rack')!.id).inspect();
    assert.equal(old.State.Running, false, 'the restarted dockerd ended the container it lost (no live-restore)');
    const m = await runGpuModel(pool, rack, 'b');
    assert.equal((await getOk(`${m.url}/health`)).status, 200);
    assert.equal(await pool.ping('tower'), true);
  });
});
