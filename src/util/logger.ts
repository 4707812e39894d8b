// pino: JSON lines by default (for log collectors), human-readable when stdout is a terminal.
import pino, { type Logger } from 'pino';
import type { LogTail } from './log-tail.js';

export type LogFormat = 'json' | 'pretty';

/**
 * Never log a secret: API keys (request headers, cookies, auth.keys), container env values,
 * registry passwords (an engine's registryAuth, in engine: or engines:, an engine AuthConfig) and tabbyAPI admin keys (a model's sleep.adminKey, the x-admin-key header), wherever a log call
 * might carry them, are written as "[redacted]". pino's redact (@pinojs/redact) matches exact
 * paths: `*` stands for exactly one key, so `*.adminKey` covers { sleep: { adminKey } } and
 * `*.sleep.adminKey` covers { model: { sleep: { adminKey } } }, nothing deeper.
 */
const SECRET_HEADERS = ['.authorization', '["x-api-key"]', '["x-admin-key"]', '.cookie', '["set-cookie"]', '["proxy-authorization"]'];
export const LOG_REDACTION = {
  paths: [
    ...SECRET_HEADERS.flatMap((h) => [`headers${h}`, `*.headers${h}`]),
    'key', 'apiKey', 'auth.keys[*].key', 'config.auth.keys[*].key', '*.auth.keys[*].key',
    'env', '*.env', 'spec.env',
    'adminKey', '*.adminKey', '*.sleep.adminKey',
    'password', '*.password', 'authconfig', '*.authconfig', 'engine.registryAuth[*].password', '*.engine.registryAuth[*].password',
    'engines[*].registryAuth[*].password', '*.engines[*].registryAuth[*].password',
  ],
  censor: '[redacted]',
};

/** `tail`: also keep the recent lines (info and above) for GET /api/logs. */
export function createLogger(options: { level?: string; format?: LogFormat; tail?: LogTail } = {}): Logger {
  const level = options.level ?? process.env.SWAPDOCK_LOG_LEVEL ?? 'info';
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty' && !options.tail) {
    return pino({ level, base: undefined, redact: LOG_REDACTION, transport: { target: 'pino-pretty', options: PRETTY } });
  }
  // Asynchronous, buffered writes keep logging off the request path: under load one write
  // carries many lines (a write per line cost about 7% of the proxy's CPU); a timer sends what
  // waits at least every LOG_FLUSH_MS.
  const out = format === 'pretty' ? pino.transport({ target: 'pino-pretty', options: PRETTY }) : bufferedStdout();
  const dest = options.tail ? pino.multistream([{ level: level as pino.Level, stream: out }, { level: 'info', stream: options.tail }]) : out;
  return pino({ level, base: undefined, redact: LOG_REDACTION }, dest);
}

const LOG_FLUSH_MS = 100;

function bufferedStdout(): pino.DestinationStream {
  const out = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => out.flush(), LOG_FLUSH_MS).unref();
  return out;
}

const PRETTY = { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true };
