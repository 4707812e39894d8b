// The web UI (/ui) in a real browser: Debian's Chromium driven by playwright-core, against a real
// swapdock server (FakeRuntime running real fake-model processes). Nothing is mocked: the page
// reads /api/models, follows /api/events, lists /api/requests and streams /api/logs/{model}.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildServer, chat, waitFor } from '../support/app-harness.js';
import { collectPageErrors, launchChromium } from '../support/browser.js';

const XSS_ALIAS = '<img src=x onerror="window.__xss=1">';
const MODELS = `
defaults: { ttl: 0, stopTimeout: 1s }
models:
  m: { image: fake-model:latest, aliases: ['${XSS_ALIAS}'] }
  org/slashed: { image: fake-model:latest }
`;

/** The text of the first element matching `selector`, read in the page now (null when absent). */
const textIn = (page: Page, selector: string) =>
  page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`) as Promise<string | null>;
const stateOf = (page: Page, id: string) => textIn(page, `tr[data-model="${id}"] .state`);

async function waitForText(page: Page, selector: string, expected: string | RegExp, what: string) {
  let seen: string | null = null;
  const matches = async () => {
    seen = await textIn(page, selector);
    return typeof expected === 'string' ? seen === expected : expected.test(seen ?? '');
  };
  await waitFor(matches, 10_000, `${what} (${selector})`).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`);
  });
}
const waitForState = (page: Page, id: string, state: string) => waitForText(page, `tr[data-model="${id}"] .state`, state, `model ${id} to show ${state}`);

// One browser for the file (launching Chromium is the slowest step); each suite has its own context.
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('web UI (headless Chromium)', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    server = await buildServer(MODELS);
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    collectPageErrors(page, pageErrors);
  });

  after(async () => {
    await page?.context().close();
    await server?.shutdown();
  });

  it('serves the page with a strict CSP, and hashed assets that may be cached', async () => {
    const res = await fetch(`${server.url}/ui`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.doesNotMatch(res.headers.get('content-security-policy')!, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const html = await res.text();
    const script = /src="(\/ui\/app\.js\?v=[^"]+)"/.exec(html)?.[1];
    assert.ok(script, 'the page links its script with a content hash');
    const js = await fetch(`${server.url}${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control')!, /immutable/);
    const again = await fetch(`${server.url}${script}`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    assert.equal(again.status, 304);
    assert.doesNotMatch(html, /<script>|style=/, 'no inline script or style (the CSP forbids them)');
  });

  it('lists every model as stopped, with text shown literally (no HTML injection)', async () => {
    await page.goto(`${server.url}/ui`);
    await waitForState(page, 'm', 'stopped');
    await waitForState(page, 'org/slashed', 'stopped');
    assert.match((await page.locator('tr[data-model="m"]').textContent())!, /aka <img src=x onerror="window.__xss=1">/);
    assert.equal(await page.locator('#models img').count(), 0);
    assert.equal(await page.evaluate('typeof window.__xss'), 'undefined');
    // One engine: no Engine column and no engine groups (a pool's: web-ui-pool.test.ts).
    assert.equal(await page.locator('#models th.col-engine').isVisible(), false);
    assert.equal(await page.locator('tr[data-model="m"] td.col-engine').isVisible(), false);
    assert.equal(await page.locator('#gpus .engine').count(), 0);
    assert.equal(await textIn(page, '#gpus'), 'no GPUs');
  });

  it('follows the event stream: a request makes the model ready and shows up in recent requests', async () => {
    await waitForText(page, '#conn', 'live', 'the page to follow GET /api/events');
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('m'));
    assert.equal(res.status, 200);
    await res.text();
    const requestId = res.headers.get('x-request-id');
    await waitForState(page, 'm', 'ready');
    const row = requestId ? page.locator(`#requests tr[data-request="${requestId}"]`) : page.locator('#requests tbody tr').first();
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], 'POST');
    assert.equal(cells[2], '/v1/chat/completions');
    assert.equal(cells[3], 'm');
    assert.equal(cells[4], '200');
    assert.match(cells[5]!, /\d+(\.\d+)? m?s/, 'a duration');
    assert.equal(await page.locator('#requests-empty').isHidden(), true);
  });

  it("streams the selected model's log", async () => {
    await page.selectOption('#log-source', 'm');
    await waitForText(page, '#log-lines', /fake-model: /, "a line of m's container output from GET /api/logs/m");
    mkdirSync('.scratch', { recursive: true });
    await page.screenshot({ path: '.scratch/ui.png', fullPage: true });
  });

  it('the Load and Unload buttons drive the scheduler (model ids with slashes included)', async () => {
    await page.click('tr[data-model="org/slashed"] button.load');
    await waitForState(page, 'org/slashed', 'ready');
    assert.equal(server.scheduler.snapshotOf('org/slashed')!.status, 'ready');

    await page.click('tr[data-model="m"] button.unload');
    await waitForState(page, 'm', 'stopped');
    assert.equal(server.scheduler.snapshotOf('m')!.status, 'stopped');
    assert.equal(await stateOf(page, 'org/slashed'), 'ready');
    assert.equal(await page.locator('tr[data-model="m"] button.load').isEnabled(), true);
  });

  it('raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('web UI with auth.keys (headless Chromium)', () => {
  it('sends the browser to /ui/login; with an admin key the page, its event stream and its buttons work', async () => {
    const server = await buildServer(`
auth: { keys: [ { name: admin, key: sk-admin-0123456789, admin: true }, { name: client, key: sk-client-0123456789 } ] }
defaults: { ttl: 0, stopTimeout: 1s }
models:
  m: { image: fake-model:latest }
`);
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/ui`);
      assert.equal(new URL(page.url()).pathname, '/ui/login');
      await page.fill('#key', 'sk-client-0123456789');
      await page.click('button[type=submit]');
      assert.match((await page.textContent('body'))!, /not an admin key/);
      await page.fill('#key', 'sk-admin-0123456789');
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/ui`);
      await waitForState(page, 'm', 'stopped');
      await waitForText(page, '#conn', 'live', 'the event stream to open with the login cookie');
      await page.click('tr[data-model="m"] button.load');
      await waitForState(page, 'm', 'ready');
      assert.equal(server.scheduler.snapshotOf('m')!.status, 'ready');
      assert.doesNotMatch((await page.content())!, /sk-admin-0123456789/, 'the key never appears in the page');
    } finally {
      await page.context().close();
      await server.shutdown();
    }
  });
});
