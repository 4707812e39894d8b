// Serves the web UI (/ui): one HTML page, one script (the page's, then the timeline's), one
// stylesheet, all held in memory as strings (src/ui/), so there is no build step and nothing to
// find on disk. The page is locked down by a strict Content-Security-Policy (same origin only, no
// inline script or style); the script and stylesheet URLs carry a content hash, so browsers may
// cache them for good while the page itself is revalidated on every visit.
import { createHash } from 'node:crypto';
import type { Handler } from 'hono';
import { renderPage } from '../ui/page.js';
import { UI_SCRIPT } from '../ui/script.js';
import { TIMELINE_SCRIPT } from '../ui/timeline-script.js';
import { UI_STYLE } from '../ui/style.js';
import type { AppEnv } from './app-env.js';

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

const script = asset(`${UI_SCRIPT}\n${TIMELINE_SCRIPT}`, 'text/javascript; charset=utf-8');
const style = asset(UI_STYLE, 'text/css; charset=utf-8');
const page = asset(renderPage({ script: `/ui/app.js?v=${script.etag.slice(1, -1)}`, style: `/ui/app.css?v=${style.etag.slice(1, -1)}` }), 'text/html; charset=utf-8');

/** GET /ui (the page), /ui/app.js and /ui/app.css; routes.ts says where each is served. */
export function uiHandlers() {
  const serve = (a: Asset, cacheControl: string, extra: Record<string, string> = {}): Handler<AppEnv> =>
    function serveAsset(c) {
      const headers = { 'cache-control': cacheControl, etag: a.etag, ...SECURITY_HEADERS, ...extra };
      if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
      return c.body(a.body, 200, { ...headers, 'content-type': a.type });
    };
  return {
    page: serve(page, 'no-cache', { 'content-security-policy': UI_CSP, 'x-frame-options': 'DENY' }),
    script: serve(script, 'public, max-age=31536000, immutable'),
    style: serve(style, 'public, max-age=31536000, immutable'),
  };
}
