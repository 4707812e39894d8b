// Where the running swapdock is, for ps, load, unload and logs: --url, else SWAPDOCK_URL, else
// the `listen` of --config (models.yaml by default, as for serve, when that file exists), else
// http://127.0.0.1:8080. Only `listen` is read from the config, so a config whose other values
// need variables this shell lacks still gives its address.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { expandEnv } from '../config/expand-env.js';
import { LISTEN_ADDRESS } from '../config/listen-address.js';
import { ClientError, UsageError } from './client-errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_CONFIG = 'models.yaml';
const DEFAULT_LISTEN = '127.0.0.1:8080';

export interface UrlSources {
  /** --url */
  url?: string;
  /** --config, when given on the command line. */
  config?: string;
  env: NodeJS.ProcessEnv;
  /** Where a relative --config (and the default models.yaml) is found; default the working directory. */
  cwd?: string;
}

export interface ResolvedUrl {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Where it came from, for messages. */
  source: '--url' | 'SWAPDOCK_URL' | 'config' | 'default';
}

export async function resolveServerUrl({ url, config, env, cwd = process.cwd() }: UrlSources): Promise<ResolvedUrl> {
  if (url !== undefined) return { url: normalizeUrl(url, '--url'), source: '--url' };
  if (env.SWAPDOCK_URL) return { url: normalizeUrl(env.SWAPDOCK_URL, 'SWAPDOCK_URL'), source: 'SWAPDOCK_URL' };
  const listen = await listenOf(path.resolve(cwd, config ?? DEFAULT_CONFIG), config ?? DEFAULT_CONFIG, config !== undefined, env);
  if (listen !== undefined) return { url: urlOfListen(listen), source: 'config' };
  return { url: DEFAULT_URL, source: 'default' };
}

/** `host:port` or a URL → a base URL with a scheme and no trailing slash. */
export function normalizeUrl(text: string, from: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new UsageError(`${from} '${text}' is not a URL; write e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${from} '${text}' is not an http:// or https:// URL; write e.g. http://127.0.0.1:8080`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** A listen address as a URL to connect to: every-interface addresses become loopback. */
export function urlOfListen(listen: string): string {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at);
  const port = listen.slice(at + 1);
  const connectTo = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${connectTo}:${port}`;
}

/**
 * The `listen` of a config file (the default when the file has none). A missing default file
 * is no error (undefined: use the default URL); a missing or unreadable --config is.
 */
async function listenOf(location: string, file: string, explicit: boolean, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(location, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigUnreadableError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(err));
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigUnreadableError(file, `it is not valid YAML: ${String((err as Error).message).split('\n')[0]}`);
  }
  const written = raw && typeof raw === 'object' ? (raw as { listen?: unknown }).listen : undefined;
  if (written === undefined || written === null) return DEFAULT_LISTEN;
  const { value, issues } = expandEnv(written, env);
  if (issues.length > 0) throw new ConfigUnreadableError(file, `its listen: ${issues[0]!.message}`);
  if (typeof value !== 'string' || !LISTEN_ADDRESS.test(value)) {
    throw new ConfigUnreadableError(file, `its listen '${String(value)}' is not host:port`);
  }
  return value;
}

export class ConfigUnreadableError extends ClientError {
  constructor(file: string, reason: string) {
    super(`Cannot tell where swapdock listens from ${file}: ${reason}. Fix it, or give the address with --url or SWAPDOCK_URL.`);
  }
}
