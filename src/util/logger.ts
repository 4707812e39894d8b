// pino: JSON lines by default (for log collectors), human-readable when stdout is a terminal.
import pino, { type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const level = options.level ?? process.env.SWAPDOCK_LOG_LEVEL ?? 'info';
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty') {
    return pino({ level, base: undefined, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
  }
  // Asynchronous writes keep logging off the request path's critical section.
  return pino({ level, base: undefined }, pino.destination({ dest: 1, sync: false }));
}
