// The web UI's GPU timeline and its activity history in a real browser (Debian's Chromium driven by
// playwright-core, set up as in web-ui.test.ts) against a real swapdock on the fake runtime: a
// request, a load and a swap appear on the timeline (segments per model and state on the GPU and
// CPU lanes, the swap mark, request and time-to-first-token bars), and after a page reload the
// timeline and the activity feed still show them — the data comes from the server.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildServer, chat, waitFor } from '../support/app-harness.js';
import { collectPageErrors, launchChromium } from '../support/browser.js';

const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
gpus: [{ id: 0, vram: 24g }]
models:
  a: { image: fake-model:latest, gpus: [0], vram: 20g }
  b: { image: fake-model:latest, gpus: [0], vram: 20g }
  small: { image: fake-model:latest }
`;

const count = (page: Page, selector: string) => page.locator(selector).count();
const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();
async function waitForElement(page: Page, selector: string, what: string) {
  await waitFor(async () => (await count(page, selector)) > 0, 10_000, `${what} (${selector})`);
}
const requestsDrawn = async (page: Page) => (await page.locator('#timeline rect.req-bar').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('data-requests'))))).reduce((n, r) => n + r, 0);

/** What the timeline must show once a, then b (a swap), then small have answered. */
async function expectPicture(page: Page) {
  await waitForElement(page, '#timeline g.lane[data-lane="gpu:0"] rect.seg[data-model="a"][data-state="loading"]', 'the load of a on GPU 0');
  await waitForElement(page, '#timeline rect.seg[data-model="a"][data-state="ready"]', 'a ready');
  await waitForElement(page, '#timeline rect.seg[data-model="a"][data-state="stopping"]', 'a stopped for the swap');
  await waitForElement(page, '#timeline g.lane[data-lane="gpu:0"] rect.seg[data-model="b"][data-state="ready"][data-open="true"]', 'b holding GPU 0 now');
  await waitForElement(page, '#timeline g.lane[data-lane="cpu"] rect.seg[data-model="small"][data-state="ready"]', 'the CPU model on the CPU lane');
  await waitForElement(page, '#timeline g.swap[data-from="a"][data-to="b"]', 'the swap a → b');
  await waitFor(async () => (await requestsDrawn(page)) === 3, 10_000, 'bars for the three requests');
  assert.ok((await count(page, '#timeline rect.ttft-bar')) > 0, 'time to first token drawn');
  assert.deepEqual(await texts(page, '#timeline .lane-label'), ['GPU 0', 'CPU']);
  assert.deepEqual(await texts(page, '#timeline g.lane[data-lane="gpu:0"] .row-label'), ['a', 'b']);
  assert.match((await page.locator('#timeline g.swap title').textContent())!, /swap at .*: a → b/);
  assert.match((await page.textContent('#timeline-summary'))!, /1 swap\(s\), 3 load\(s\).*3 request\(s\)/);
}

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('web UI timeline (headless Chromium)', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    server = await buildServer(MODELS, { gpuSupport: true });
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    collectPageErrors(page, pageErrors);
  });

  after(async () => {
    await page?.context().close();
    await server?.shutdown();
  });

  it('shows idle lanes for the GPU and the CPU before anything ran', async () => {
    await page.goto(`${server.url}/ui`);
    await waitFor(async () => (await texts(page, '#timeline .lane-label')).join() === 'GPU 0,CPU', 10_000, 'the GPU 0 and CPU lanes');
    assert.equal(await count(page, '#timeline rect.seg'), 0);
    assert.equal(await count(page, '#timeline .idle'), 2);
    // One engine: its GPU bars as ever, with no engine group around them (a pool's: web-ui-pool.test.ts).
    assert.deepEqual(await texts(page, '#gpus .gpu'), ['GPU 00 MiB / 24.0 GiB']);
    assert.equal(await count(page, '#gpus .engine'), 0);
    await waitFor(async () => (await page.textContent('#conn')) === 'live', 10_000, 'the page to follow GET /api/events');
  });

  it('a request, a load and a swap appear on the timeline as they happen', async () => {
    for (const model of ['a', 'b', 'small']) {
      const res = await fetch(`${server.url}/v1/chat/completions`, chat(model));
      assert.equal(res.status, 200, await res.text());
    }
    await expectPicture(page);
    await waitFor(async () => /small: starting → ready/.test((await texts(page, '#activity li')).join('\n')), 10_000, 'the last state change in the feed');
    assert.match((await texts(page, '#activity li')).join('\n'), /swap: a → b/);
    mkdirSync('.scratch', { recursive: true });
    await page.screenshot({ path: '.scratch/ui-timeline.png', fullPage: true });
  });

  it('after a reload the timeline and the activity feed still show what happened before', async () => {
    const before = await texts(page, '#activity li');
    await page.reload();
    await waitFor(async () => (await page.textContent('#conn')) === 'live', 10_000, 'the reloaded page to follow GET /api/events');
    await expectPicture(page);
    // Nothing happened since: every line of the feed comes from the server's history.
    await waitFor(async () => (await count(page, '#activity li')) > 0, 10_000, 'the activity feed filled from the history');
    const activity = await texts(page, '#activity li');
    const withoutTimes = (lines: string[]) => lines.map((l) => l.replace(/^\d\d:\d\d:\d\d/, ''));
    assert.deepEqual(withoutTimes(activity), withoutTimes(before), 'the same feed as before the reload');
    const text = activity.join('\n');
    for (const line of [/a: stopped → starting/, /a: starting → ready/, /swap: a → b/, /a: ready → stopping/, /b: starting → ready/, /small: starting → ready/]) assert.match(text, line);
    assert.ok(activity.findIndex((l) => /small: starting → ready/.test(l)) < activity.findIndex((l) => /a: stopped → starting/.test(l)), 'newest first');
  });

  it('the range buttons zoom the axis without losing what happened in it', async () => {
    await page.click('#timeline-range button[data-range="5m"]');
    assert.equal(await page.getAttribute('#timeline-range button[data-range="5m"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('#timeline-range button[data-range="1h"]', 'aria-pressed'), 'false');
    await expectPicture(page);
  });

  it('raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
