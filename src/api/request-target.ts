// Request targets are made canonical before routing, so that every spelling of a path reaches
// the route its plain form reaches — with its middleware, heartbeats, events and metrics — and
// the backend gets the canonical path too:
// - absolute form (`POST http://host/v1/chat/completions`, RFC 9112 §3.2.2) → its path and query;
// - percent-escapes of unreserved characters (`/v1/%63hat/…`) are decoded (RFC 3986 §6.2.2.2);
//   other escapes (`%2F`, `%20`) stay as written, with hex digits in upper case;
// - `//` collapses to `/`, and `.` / `..` segments are resolved (never above the root).
// A target that cannot be read this way (a bad escape, no leading `/`) is a 400.
import { InvalidRequestTargetError } from './http-errors.js';

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The canonical form of `target` (path and query); throws InvalidRequestTargetError. Plain targets come back as the same string. */
export function canonicalTarget(target: string): string {
  if (target.charCodeAt(0) !== 47 /* '/' */) target = fromAbsoluteForm(target);
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (!needsWork(path)) return target;
  const canonical = resolveSegments(decodeUnreserved(path));
  return q === -1 ? canonical : canonical + target.slice(q);
}

/** The hot path: a target with no '%', no '//' and no dot segment is already canonical. */
function needsWork(path: string): boolean {
  return path.includes('%') || path.includes('//') || path.includes('/.');
}

function fromAbsoluteForm(target: string): string {
  if (!/^https?:\/\//i.test(target)) throw new InvalidRequestTargetError(`'${target.slice(0, 100)}' does not start with '/'`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new InvalidRequestTargetError(`'${target.slice(0, 100)}' is not a valid absolute URL`);
  }
  // The raw path, not url.pathname: WHATWG URL would already have re-encoded or resolved parts of it.
  const afterHost = target.indexOf('/', target.indexOf('//') + 2);
  return afterHost === -1 ? `/${url.search}` : target.slice(afterHost).replace(/#.*$/, '') || '/';
}

function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%(.{0,2})/g, (match, hex: string) => {
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new InvalidRequestTargetError(`a malformed percent-escape '${match}'`);
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function resolveSegments(path: string): string {
  if (!path.includes('//') && !path.includes('/.')) return path;
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.' || (segment === '' && !last)) {
      if (last) out.push('');
    } else out.push(segment);
  }
  return `/${out.join('/')}`;
}
