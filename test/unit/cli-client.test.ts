// The CLI's pure parts: where it looks for swapdock (--url > SWAPDOCK_URL > the listen of
// --config > http://127.0.0.1:8080) and the table `swapdock ps` prints.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/client-errors.js';
import { ago, renderPs } from '../../src/cli/ps-table.js';
import type { ModelView, ModelsView } from '../../src/cli/server-client.js';
import { ConfigUnreadableError, DEFAULT_URL, normalizeUrl, resolveServerUrl, urlOfListen } from '../../src/cli/server-url.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'swapdock-url-'));
function dirWithConfig(text: string, name = 'models.yaml'): string {
  const dir = emptyDir();
  writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('where the CLI finds swapdock', () => {
  it('http://127.0.0.1:8080 when nothing says otherwise (no --url, no SWAPDOCK_URL, no models.yaml)', async () => {
    assert.deepEqual(await resolveServerUrl({ env: {}, cwd: emptyDir() }), { url: DEFAULT_URL, source: 'default' });
    assert.equal(DEFAULT_URL, 'http://127.0.0.1:8080');
  });

  it('takes --url, then SWAPDOCK_URL, then the listen of --config, then models.yaml', async () => {
    const cwd = dirWithConfig('listen: 127.0.0.1:9001\nmodels: {}\n');
    writeFileSync(path.join(cwd, 'other.yaml'), 'listen: 127.0.0.1:9002\nmodels: {}\n');
    const env = { SWAPDOCK_URL: 'http://127.0.0.1:9003' };
    assert.deepEqual(await resolveServerUrl({ url: 'http://127.0.0.1:9004', config: 'other.yaml', env, cwd }), { url: 'http://127.0.0.1:9004', source: '--url' });
    assert.deepEqual(await resolveServerUrl({ config: 'other.yaml', env, cwd }), { url: 'http://127.0.0.1:9003', source: 'SWAPDOCK_URL' });
    assert.deepEqual(await resolveServerUrl({ config: 'other.yaml', env: { SWAPDOCK_URL: '' }, cwd }), { url: 'http://127.0.0.1:9002', source: 'config' });
    assert.deepEqual(await resolveServerUrl({ env: {}, cwd }), { url: 'http://127.0.0.1:9001', source: 'config' });
  });

  it("reads only listen: expanded with the shell's environment, the default when absent", async () => {
    const cwd = dirWithConfig('listen: ${SD_LISTEN:-0.0.0.0:9005}\nauth: { keys: [{ name: a, key: "${NOT_SET_HERE}" }] }\nmodels: {}\n');
    assert.equal((await resolveServerUrl({ env: {}, cwd })).url, 'http://127.0.0.1:9005');
    assert.equal((await resolveServerUrl({ env: { SD_LISTEN: 'gpu-box.lan:9006' }, cwd })).url, 'http://gpu-box.lan:9006');
    assert.equal((await resolveServerUrl({ env: {}, cwd: dirWithConfig('models: {}\n') })).url, 'http://127.0.0.1:8080');
  });

  it('a --config it cannot read is an error that says to use --url', async () => {
    const cwd = dirWithConfig('listen: ${SD_LISTEN}\nmodels: {}\n');
    await assert.rejects(resolveServerUrl({ config: 'missing.yaml', env: {}, cwd }), (err: Error) => err instanceof ConfigUnreadableError && /missing\.yaml: the file does not exist/.test(err.message));
    await assert.rejects(resolveServerUrl({ env: {}, cwd }), (err: Error) => err instanceof ConfigUnreadableError && /SD_LISTEN is not set/.test(err.message) && /--url or SWAPDOCK_URL/.test(err.message));
    await assert.rejects(resolveServerUrl({ env: {}, cwd: dirWithConfig('listen: 8080\n') }), /listen '8080' is not host:port/);
    await assert.rejects(resolveServerUrl({ env: {}, cwd: dirWithConfig('listen: [oops\n') }), /not valid YAML/);
  });

  it('listen addresses on every interface are reached on loopback', () => {
    assert.equal(urlOfListen('0.0.0.0:8080'), 'http://127.0.0.1:8080');
    assert.equal(urlOfListen('[::]:8080'), 'http://[::1]:8080');
    assert.equal(urlOfListen('[::1]:8081'), 'http://[::1]:8081');
    assert.equal(urlOfListen('swapdock:8080'), 'http://swapdock:8080');
  });

  it('--url and SWAPDOCK_URL may leave out http://, and keep a path (behind a reverse proxy)', () => {
    assert.equal(normalizeUrl('gpu-box:8080', '--url'), 'http://gpu-box:8080');
    assert.equal(normalizeUrl('https://example.com/swapdock/', '--url'), 'https://example.com/swapdock');
    assert.equal(normalizeUrl('http://127.0.0.1:8080/', 'SWAPDOCK_URL'), 'http://127.0.0.1:8080');
    assert.throws(() => normalizeUrl('ftp://x', '--url'), (err: Error) => err instanceof UsageError && err.exitCode === 2 && /not an http/.test(err.message));
    assert.throws(() => normalizeUrl('http://', 'SWAPDOCK_URL'), /SWAPDOCK_URL 'http:\/\/' is not a URL/);
  });
});

describe('the ps table', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  const before = (seconds: number) => new Date(now - seconds * 1000).toISOString();
  const model = (fields: Partial<ModelView> & { id: string }): ModelView => ({
    status: 'stopped', aliases: [], usesGpu: true, devices: [], inFlight: 0, queued: 0, draining: false, pinned: false, baseline: false, lastUsedAt: null, sleep: null, ...fields,
  });
  const view = (models: ModelView[], gpus: ModelsView['gpus'] = null): ModelsView => ({ gpus, swap: { policy: 'grouped', maxWaitMs: 30_000, swaps: 3 }, models });

  it('says when a model was last used in words', () => {
    assert.equal(ago(null, now), 'never');
    assert.equal(ago(before(2), now), 'just now');
    assert.equal(ago(before(42), now), '42s ago');
    assert.equal(ago(before(5 * 60 + 10), now), '5m ago');
    assert.equal(ago(before(3 * 3600), now), '3h ago');
    assert.equal(ago(before(2 * 86_400), now), '2d ago');
  });

  it('one aligned row per model, the GPUs with what holds them, and the last error of a failed model', () => {
    const text = renderPs(
      view(
        [
          model({ id: 'coder', status: 'ready', devices: ['0'], vramBytes: 20 * 1024 ** 3, inFlight: 3, queued: 12, lastUsedAt: before(42), draining: true }),
          model({ id: 'sleepy', status: 'sleeping', devices: ['1'], vramBytes: 10 * 1024 ** 3, sleep: { vramBytes: 1024 ** 3 }, lastUsedAt: before(600) }),
          model({ id: 'big', status: 'failed', lastError: 'container exited with code 1' }),
          model({ id: 'embed', status: 'ready', usesGpu: false, lastUsedAt: before(1) }),
        ],
        [{ id: '0', vramBytes: 24 * 1024 ** 3 }, { id: '1', vramBytes: 24 * 1024 ** 3 }],
      ),
      now,
    );
    assert.equal(
      text,
      [
        'MODEL   STATE             DEVICES  VRAM       IN FLIGHT  QUEUED  LAST USED',
        'coder   ready (draining)  0        20 GiB             3      12  42s ago',
        'sleepy  sleeping          1        10 GiB             0       0  10m ago',
        'big     failed            -        whole GPU          0       0  never',
        'embed   ready             CPU      -                  0       0  just now',
        '',
        'GPU  IN USE   TOTAL  MODELS',
        '0    20 GiB  24 GiB  coder',
        '1     1 GiB  24 GiB  sleepy',
        'swaps: 3 (policy grouped)',
        '',
        'big failed: container exited with code 1',
      ].join('\n'),
    );
  });

  it('a pool of several engines: an ENGINE column in both tables (GPU 0 of each engine apart), and the unreachable engine named with why', () => {
    const gib = 1024 ** 3;
    const pool: ModelsView = {
      ...view([
        model({ id: 'small', status: 'ready', engine: 'rack', devices: ['0'], vramBytes: 20 * gib, lastUsedAt: before(1) }),
        model({ id: 'big', status: 'ready', engine: 'rack', devices: ['0', '1'], vramBytes: 40 * gib }),
        model({ id: 'towered', status: 'failed', lastError: "engine 'tower' became unreachable (connection refused)" }),
        model({ id: 'cpu', usesGpu: false }),
      ]),
      engines: [
        { name: 'tower', gpus: [{ id: '0', vramBytes: 24 * gib }], reachable: false, unavailable: 'connect ECONNREFUSED', downSince: before(90) },
        { name: 'rack', gpus: [{ id: '0', vramBytes: 80 * gib }, { id: '1', vramBytes: 48 * gib }], reachable: true },
      ],
    };
    assert.equal(
      renderPs(pool, now),
      [
        'MODEL    STATE    ENGINE  DEVICES  VRAM       IN FLIGHT  QUEUED  LAST USED',
        'small    ready    rack    0        20 GiB             0       0  just now',
        'big      ready    rack    0,1      40 GiB             0       0  never',
        'towered  failed   -       -        whole GPU          0       0  never',
        'cpu      stopped  -       CPU      -                  0       0  never',
        '',
        'ENGINE  GPU  IN USE   TOTAL  MODELS',
        'tower   0         0  24 GiB  -',
        'rack    0    60 GiB  80 GiB  small, big',
        'rack    1    40 GiB  48 GiB  big',
        'swaps: 3 (policy grouped)',
        '',
        'engine tower is unreachable (went away 1m ago): connect ECONNREFUSED',
        '',
        "towered failed: engine 'tower' became unreachable (connection refused)",
      ].join('\n'),
    );
    // A pool of one engine (or a swapdock before pools) prints as before.
    const single = renderPs({ ...view([model({ id: 'a', engine: 'default' })], [{ id: '0', vramBytes: 24 * gib }]), engines: [{ name: 'default', gpus: [{ id: '0', vramBytes: 24 * gib }], reachable: true }] }, now);
    assert.doesNotMatch(single, /ENGINE|default/);
    assert.match(single, /^GPU  IN USE/m);
  });

  it('without GPUs, only the models; without models, says so', () => {
    assert.doesNotMatch(renderPs(view([model({ id: 'a' })]), now), /^GPU|swaps:/m);
    assert.match(renderPs(view([]), now), /\(no models configured\)/);
  });
});
