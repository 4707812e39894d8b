// The web UI's login page (/ui/login): a browser cannot send an Authorization header when it opens
// /ui, so an admin types the key once here and gets it back as an HttpOnly, SameSite=Strict
// cookie (swapdock_key), which the key check accepts on admin routes only (/ui, /api, /metrics).
import type { Handler } from 'hono';
import type { SwapdockConfig } from '../config/schema.js';
import { PayloadTooLargeError } from '../errors.js';
import { KEY_COOKIE, keyRingFor } from './auth.js';
import type { AppEnv } from './app-env.js';
import { readNodeBody } from './read-body.js';

const MAX_FORM_BYTES = 16 * 1024;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function page(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>swapdock · sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:15vh auto;padding:0 1rem}input,button{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}p.error{color:#b00}</style>
</head><body>
<h1>swapdock</h1>
${message ? `<p class="error" role="alert">${message}</p>` : ''}
<form method="post" action="/ui/login">
<label for="key">Admin API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
<p><small>An admin key from auth.keys in swapdock's config. It is kept in an HttpOnly cookie for this browser session.</small></p>
</body></html>`;
}

/** GET and POST /ui/login; routes.ts says where they are served. */
export function uiLoginHandlers(deps: { scheduler: { currentConfig: SwapdockConfig } }) {
  const loginPage: Handler<AppEnv> = (c) => {
    if (keyRingFor(deps.scheduler.currentConfig).open) return c.redirect('/ui', 303);
    return c.body(page(), 200, PAGE_HEADERS);
  };

  const signIn: Handler<AppEnv> = async function signIn(c) {
    const ring = keyRingFor(deps.scheduler.currentConfig);
    if (ring.open) return c.redirect('/ui', 303);
    const raw = await readNodeBody(c.env.incoming, MAX_FORM_BYTES);
    if (raw.length > MAX_FORM_BYTES) throw new PayloadTooLargeError(MAX_FORM_BYTES);
    const presented = new URLSearchParams(raw.toString('utf8')).get('key')?.trim() ?? '';
    const key = presented ? ring.match(presented) : undefined;
    if (!key?.admin) {
      const message = key ? 'That key is valid but not an admin key; the web UI needs one (admin: true in auth.keys).' : 'That key matches none of the keys in auth.keys. Check it and try again.';
      return c.body(page(message), 401, PAGE_HEADERS);
    }
    c.header('set-cookie', `${KEY_COOKIE}=${encodeURIComponent(presented)}; HttpOnly; SameSite=Strict; Path=/`);
    c.header('cache-control', 'no-store');
    return c.redirect('/ui', 303);
  };

  return { loginPage, signIn };
}
