// Following a container's output over the Engine API (`GET /containers/{id}/logs?follow=1`),
// for Docker and Podman's compat API alike. Without a TTY the engine multiplexes stdout and
// stderr into frames — [stream(1), 0, 0, 0, size(4, big-endian)] + payload — which are split
// here into lines, each prefixed by the engine's RFC 3339 timestamp (`timestamps=1`).
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import type { FollowLogsOptions, LogLine } from './container-runtime.js';

type Stream = LogLine['stream'];

/** Splits the engine's (multiplexed or raw) log byte stream into timestamped lines. */
export class LogFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Undecided until the first 8 bytes: framed (no TTY) or raw text (TTY). */
  private framed?: boolean;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly partial = { stdout: '', stderr: '' };

  constructor(private readonly now: () => number = Date.now) {}

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.framed === undefined) {
      if (this.pending.length < 8) return out;
      const b = this.pending;
      this.framed = (b[0] === 0 || b[0] === 1 || b[0] === 2) && b[1] === 0 && b[2] === 0 && b[3] === 0;
    }
    if (!this.framed) {
      this.text('stdout', this.pending, out);
      this.pending = Buffer.alloc(0);
      return out;
    }
    let at = 0;
    while (at + 8 <= this.pending.length) {
      const size = this.pending.readUInt32BE(at + 4);
      if (at + 8 + size > this.pending.length) break;
      this.text(this.pending[at] === 2 ? 'stderr' : 'stdout', this.pending.subarray(at + 8, at + 8 + size), out);
      at += 8 + size;
    }
    this.pending = this.pending.subarray(at);
    return out;
  }

  /** The last unterminated lines, when the stream ends. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].end();
      this.partial[stream] = '';
      if (rest) out.push(this.line(stream, rest));
    }
    return out;
  }

  private text(stream: Stream, bytes: Buffer, out: LogLine[]): void {
    const parts = (this.partial[stream] + this.decoders[stream].write(bytes)).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const part of parts) out.push(this.line(stream, part));
  }

  private line(stream: Stream, raw: string): LogLine {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const space = text.indexOf(' ');
    const at = space > 0 ? Date.parse(text.slice(0, space)) : NaN;
    return Number.isNaN(at) ? { stream, line: text, at: this.now() } : { stream, line: text.slice(space + 1), at };
  }
}

/** Yields the lines of one container until it stops, is removed, or `signal` fires. */
export async function* followDockerLogs(
  docker: Docker,
  id: string,
  options: FollowLogsOptions,
  wrap: (err: unknown) => Error,
  isMissing: (err: Error) => boolean,
): AsyncGenerator<LogLine> {
  const { signal } = options;
  if (signal.aborted) return;
  let stream: NodeJS.ReadableStream & { destroy?(): void };
  try {
    stream = (await docker.getContainer(id).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: options.since === undefined ? 0 : Math.floor(options.since / 1000),
      ...(options.tail === undefined ? {} : { tail: options.tail }),
    })) as unknown as NodeJS.ReadableStream;
  } catch (err) {
    const wrapped = wrap(err);
    if (isMissing(wrapped)) return;
    throw wrapped;
  }
  const close = () => stream.destroy?.();
  signal.addEventListener('abort', close, { once: true });
  const splitter = new LogFrameSplitter();
  try {
    for await (const chunk of stream) {
      for (const line of splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))) {
        if (options.since === undefined || line.at >= options.since) yield line;
      }
    }
    for (const line of splitter.end()) yield line;
  } catch (err) {
    if (!signal.aborted) throw wrap(err);
  } finally {
    signal.removeEventListener('abort', close);
    close();
  }
}

/** Non-TTY logs are framed: [stream, 0, 0, 0, size(4 bytes BE)] + payload. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const stream = buf[at];
    if ((stream !== 0 && stream !== 1 && stream !== 2) || buf[at + 1] || buf[at + 2] || buf[at + 3]) {
      parts.push(buf.subarray(at)); // not framed (TTY): the rest is raw text
      at = buf.length;
      break;
    }
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at < buf.length) parts.push(buf.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}
