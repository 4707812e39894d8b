// The web UI with a pool of two engines in a real browser (Debian's Chromium driven by
// playwright-core, as in web-ui.test.ts) against a real swapdock on two FakeRuntimes: one group of
// GPU bars per engine (GPU 0 of each apart, each counting only its engine's models), the Engine
// column in the models table, an engine that goes away marked unreachable with why (also after a
// page reload, and in the activity feed), the timeline's lanes per engine, and the engine back.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../src/cli/start-server.js';
import { chat, waitFor } from '../support/app-harness.js';
import { collectPageErrors, launchChromium } from '../support/browser.js';
import { POOL_ENGINES, startFakePool, type FakePool } from '../support/fake-pool.js';
import type { FakeRuntime } from '../support/fake-runtime.js';

const POOL = `${POOL_ENGINES}models:
  small: { image: fake-model:latest, gpus: 1, vram: 20g }
  big: { image: fake-model:latest, gpus: 2, vram: 40g, engines: [rack] }
  cpu: { image: fake-model:latest, engines: [rack] }
`;

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();
const textOf = (page: Page, selector: string) => page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`) as Promise<string | null>;
async function waitForText(page: Page, selector: string, expected: string | RegExp, what: string) {
  let seen: string | null = null;
  const matches = async () => {
    seen = await textOf(page, selector);
    return typeof expected === 'string' ? seen === expected : expected.test(seen ?? '');
  };
  await waitFor(matches, 10_000, `${what} (${selector})`).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`);
  });
}
/** The GPU bars of one engine's group, as "GPU <id>: <used> / <total>". */
const barsOf = async (page: Page, engine: string) =>
  (await texts(page, `#gpus .engine[data-engine="${engine}"] .gpu`)).map((t) => t.replace(/^(GPU \S+?)(\d+(\.\d+)? [MG]iB)/, '$1: $2'));

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('web UI with a pool of engines (headless Chromium)', () => {
  let pool: FakePool;
  let server: RunningServer;
  let tower: FakeRuntime;
  let rack: FakeRuntime;
  let page: Page;
  const pageErrors: string[] = [];
  const post = async (model: string) => {
    const res = await fetch(`${server.url}/v1/chat/completions`, chat(model));
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
  };

  before(async () => {
    pool = await startFakePool(POOL);
    ({ server, tower, rack } = pool);
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    collectPageErrors(page, pageErrors);
  });

  after(async () => {
    await page?.context().close();
    await pool?.close();
  });

  it('shows one group of GPU bars per engine, headed by its name, and the Engine column', async () => {
    await page.goto(`${server.url}/ui`);
    await waitFor(async () => (await texts(page, '#gpus .engine-name')).join() === 'tower,rack', 10_000, 'a group per engine');
    assert.deepEqual(await barsOf(page, 'tower'), ['GPU 0: 0 MiB / 24.0 GiB']);
    assert.deepEqual(await barsOf(page, 'rack'), ['GPU 0: 0 MiB / 48.0 GiB', 'GPU 1: 0 MiB / 48.0 GiB']);
    assert.equal(await page.locator('#gpus .engine-down').count(), 0);
    assert.equal(await page.locator('#models th.col-engine').isVisible(), true, 'the Engine column, with more than one engine');
    assert.equal(await textOf(page, 'tr[data-model="small"] .col-engine'), '–', 'a stopped model is on no engine');
    await waitForText(page, '#conn', 'live', 'the page to follow GET /api/events');
  });

  it('a loaded model shows its engine, and its VRAM on that engine’s bars only (GPU 0 of each engine apart)', async () => {
    await post('big'); // rack only: 40 GiB on both of its GPUs
    await post('small'); // rack has 8 GiB left on each: tower
    await waitForText(page, 'tr[data-model="big"] .col-engine', 'rack', 'big on rack');
    await waitForText(page, 'tr[data-model="small"] .col-engine', 'tower', 'small on tower');
    await waitFor(async () => (await barsOf(page, 'tower'))[0] === 'GPU 0: 20.0 GiB / 24.0 GiB', 10_000, "small on tower's GPU 0");
    assert.deepEqual(await barsOf(page, 'rack'), ['GPU 0: 40.0 GiB / 48.0 GiB', 'GPU 1: 40.0 GiB / 48.0 GiB']);
    await waitFor(async () => (await texts(page, '#timeline .lane-label')).join() === 'tower · GPU 0,rack · GPU 0,rack · GPU 1,rack · CPU', 10_000, 'timeline lanes per engine');
    await waitFor(async () => (await page.locator('#timeline g.lane[data-lane="tower/gpu:0"] rect.seg[data-model="small"]').count()) > 0, 10_000, "small on tower's lane");
    assert.equal(await page.locator('#timeline g.lane[data-lane="rack/gpu:1"] rect.seg[data-model="big"]').count() > 0, true);
    const feed = (await texts(page, '#activity li')).join('\n');
    assert.match(feed, /small: stopped → starting on tower/, 'the feed says where a model loads');
    assert.match(feed, /big: stopped → starting on rack/);
  });

  it('an engine that goes away is marked unreachable with why; its model fails; the feed says so, also after a reload', async () => {
    tower.goAway('connection refused');
    await waitForText(page, '#gpus .engine[data-engine="tower"] .engine-down', /^unreachable: .*connection refused/, 'tower marked unreachable');
    assert.equal(await page.getAttribute('#gpus .engine[data-engine="tower"]', 'data-reachable'), 'false');
    assert.equal(await page.locator('#gpus .engine[data-engine="rack"] .engine-down').count(), 0);
    await waitForText(page, 'tr[data-model="small"] .state', 'failed', 'small failed');
    await waitForText(page, 'tr[data-model="small"] .col-error', /engine 'tower' became unreachable/, 'the failure names the engine');
    await waitFor(async () => (await texts(page, '#activity li')).some((l) => /engine tower: unreachable — .*connection refused/.test(l)), 10_000, 'the feed line');
    mkdirSync('.scratch', { recursive: true });
    await page.screenshot({ path: '.scratch/ui-pool.png', fullPage: true });

    await page.reload();
    await waitForText(page, '#conn', 'live', 'the reloaded page to follow GET /api/events');
    await waitForText(page, '#gpus .engine[data-engine="tower"] .engine-down', /^unreachable: .*connection refused/, 'tower still marked after a reload');
    await waitFor(async () => (await texts(page, '#activity li')).some((l) => /engine tower: unreachable/.test(l)), 10_000, 'the feed line from the history');
  });

  it('a request for the failed model is served on the other engine; the engine back is unmarked', async () => {
    await post('small');
    await waitForText(page, 'tr[data-model="small"] .col-engine', 'rack', 'small failed over to rack');
    await waitForText(page, 'tr[data-model="small"] .state', 'ready', 'small ready on rack');
    await waitFor(async () => (await barsOf(page, 'tower'))[0] === 'GPU 0: 0 MiB / 24.0 GiB', 10_000, "tower's GPU free");
    tower.comeBack();
    await waitFor(async () => (await page.getAttribute('#gpus .engine[data-engine="tower"]', 'data-reachable')) === 'true', 10_000, 'tower reachable again');
    assert.equal(await page.locator('#gpus .engine-down').count(), 0);
    await waitFor(async () => (await texts(page, '#activity li')).some((l) => /engine tower: answers again/.test(l)), 10_000, 'the feed line');
  });

  it('raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
