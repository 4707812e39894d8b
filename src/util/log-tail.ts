// swapdock's own recent log lines, for GET /api/logs: a pino destination that keeps the last
// `logs.lines` lines in a ring buffer (as the JSON text pino wrote: parsed only when read, or
// when someone follows live) and tells live followers of each new line.
import { EventEmitter } from 'node:events';
import pino, { type DestinationStream, type Logger } from 'pino';
import { RingBuffer } from './ring-buffer.js';

/** One of swapdock's log lines as /api/logs serves it. */
export interface OwnLogEntry {
  at: number;
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class LogTail extends EventEmitter<{ line: [OwnLogEntry] }> implements DestinationStream {
  private ring: RingBuffer<string>;

  constructor(lines = 1000) {
    super();
    this.setMaxListeners(0);
    this.ring = new RingBuffer(lines);
  }

  /** Called by pino (multistream) with one JSON line. */
  write(line: string): void {
    this.ring.push(line);
    if (this.listenerCount('line') > 0) this.emit('line', toEntry(line));
  }

  /** Oldest first. */
  history(): OwnLogEntry[] {
    return this.ring.toArray().map(toEntry);
  }

  /** A new capacity (config reload); keeps the newest lines. */
  resize(lines: number): void {
    if (lines === this.ring.capacity) return;
    const next = new RingBuffer<string>(lines);
    for (const line of this.ring.toArray()) next.push(line);
    this.ring = next;
  }
}

function toEntry(line: string): OwnLogEntry {
  try {
    const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return { at: typeof time === 'number' ? time : Date.now(), level: pino.levels.labels[level as number] ?? String(level), msg: typeof msg === 'string' ? msg : '', ...rest };
  } catch {
    return { at: Date.now(), level: 'info', msg: line.trimEnd() };
  }
}

/**
 * A logger writing where `log` writes and also into `tail` (info and above). For a logger not
 * made by createLogger with a tail (tests, embedders); keeps `log`'s level and bindings.
 */
export function teeLogger(log: Logger, tail: LogTail, redact?: pino.LoggerOptions['redact']): Logger {
  const original = (log as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  const streams: pino.StreamEntry[] = [{ level: 'info', stream: tail }];
  if (original && log.level !== 'silent') streams.push({ level: log.level as pino.Level, stream: original });
  const level = log.level === 'silent' || pino.levels.values[log.level]! > pino.levels.values.info! ? 'info' : log.level;
  return pino({ level, base: undefined, redact }, pino.multistream(streams)).child(log.bindings());
}
