// /upstream/{model}/{path}: anything through to a configured model's container, and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { splitUpstreamUrl } from '../../src/api/upstream-route.js';
import { buildServer } from '../support/app-harness.js';

describe('splitUpstreamUrl', () => {
  it('takes the longest configured name, keeping the query', () => {
    const names = ['m', 'org', 'org/model'];
    assert.deepEqual(splitUpstreamUrl('/upstream/org/model/v1/x?y=1', names), { name: 'org/model', path: '/v1/x?y=1' });
    assert.deepEqual(splitUpstreamUrl('/upstream/org/other', names), { name: 'org', path: '/other' });
    assert.deepEqual(splitUpstreamUrl('/upstream/m', names), { name: 'm', path: '/' });
    assert.equal(splitUpstreamUrl('/upstream/mm/x', names), undefined);
    assert.equal(splitUpstreamUrl('/upstream/../etc/passwd', names), undefined);
  });
});

describe('the /upstream route', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  before(async () => {
    server = await buildServer(`instance: app-upstream\nmodels:\n  m: { image: fake-model:latest, upstreamModel: org/m }\n  cold: { image: fake-model:latest }\n`);
  });
  after(() => server.shutdown());

  it('starts the model and passes a GET through', async () => {
    const res = await fetch(`${server.url}/upstream/m/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.equal(server.scheduler.snapshotOf('m')!.status, 'ready');
  });

  it('streams a POST body through untouched (no model rewriting)', async () => {
    const body = JSON.stringify({ model: 'as-sent', messages: [], stream: true, fake_chunks: 2 });
    const res = await fetch(`${server.url}/upstream/m/v1/chat/completions?x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /model=as-sent[\s\S]*\[DONE\]/);
  });

  it('passes the backend status through', async () => {
    const res = await fetch(`${server.url}/upstream/m/no/such/page`);
    assert.equal(res.status, 404);
  });

  it('never starts a model for a static asset', async () => {
    const res = await fetch(`${server.url}/upstream/cold/assets/app.js`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_not_loaded');
    assert.equal(server.scheduler.snapshotOf('cold')!.status, 'stopped');
  });

  it('reaches only configured models', async () => {
    const res = await fetch(`${server.url}/upstream/localhost:22/x`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /Available models: m, cold/);
  });
});
