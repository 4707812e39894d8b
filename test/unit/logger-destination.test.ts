// swapdock's JSON log destination (createLogger → bufferedDestination): every line arrives whole,
// in order, UTF-8 intact; a line costs work in proportion to itself — not to the output still
// waiting to be written (sonic-boom given strings re-measured that whole text for every line);
// and under load many lines go out in one write (each asynchronous write has a fixed cost).
import assert from 'node:assert/strict';
import fs, { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { WRITE_MIN_BYTES, bufferedDestination } from '../../src/util/logger.js';

const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openLog(name: string) {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  return { file, fd, dest: bufferedDestination(fd) };
}

const line = (i: number) => `${JSON.stringify({ level: 30, requestId: `req-${i}`, msg: `POST /v1/chat/completions → 200 in ${i}.0 ms — ok` })}\n`;

describe('the log destination', () => {
  it('writes every line whole and in order, multi-byte characters included', async () => {
    const { file, fd, dest } = openLog('lines.log');
    const lines = Array.from({ length: 3000 }, (_, i) => line(i));
    for (const l of lines) dest.write(l);
    await new Promise<void>((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())));
    dest.flushSync();
    assert.equal(readFileSync(file, 'utf8'), lines.join(''));
    closeSync(fd);
  });

  it('takes pino lines and flushes them synchronously (as the exit hook does)', () => {
    const { file, fd, dest } = openLog('pino.log');
    const log = pino({ base: undefined, timestamp: false }, dest);
    log.info({ requestId: 'a', model: 'qwen→7b' }, 'first');
    log.warn({ requestId: 'b' }, 'second');
    dest.flushSync();
    const written = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(written, [
      { level: 30, requestId: 'a', model: 'qwen→7b', msg: 'first' },
      { level: 40, requestId: 'b', msg: 'second' },
    ]);
    closeSync(fd);
  });

  it('does not re-measure the waiting output for every line', () => {
    const { fd, dest } = openLog('cost.log');
    const byteLength = Buffer.byteLength;
    let scanned = 0;
    Buffer.byteLength = ((value: Parameters<typeof byteLength>[0], encoding?: BufferEncoding) => {
      if (typeof value === 'string') scanned += value.length;
      return byteLength(value, encoding);
    }) as typeof byteLength;
    let total = 0;
    try {
      // Synchronously, as under load: the first write is still in flight while the rest wait.
      for (let i = 0; i < 2000; i++) {
        const l = line(i);
        total += l.length;
        dest.write(l);
      }
    } finally {
      Buffer.byteLength = byteLength;
    }
    dest.flushSync();
    closeSync(fd);
    // With the lines handed to sonic-boom as strings: about 80 times their own length.
    assert.ok(scanned <= 2 * total, `measured ${scanned} characters for ${total} characters of lines`);
  });

  it('sends lines in writes of at least WRITE_MIN_BYTES while they keep coming', async () => {
    const { file, fd, dest } = openLog('writes.log');
    const sizes: number[] = [];
    const write = fs.write;
    fs.write = ((...args: unknown[]) => {
      const data = args[1];
      if (args[0] === fd) sizes.push(typeof data === 'string' ? Buffer.byteLength(data) : (data as Buffer).length);
      return (write as (...a: unknown[]) => void)(...args);
    }) as typeof fs.write;
    let total = 0;
    try {
      for (let i = 0; i < 2000; i++) {
        const l = line(i);
        total += Buffer.byteLength(l);
        dest.write(l);
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve)); // writes complete meanwhile
      }
      // sonic-boom calls a flush's callback at the end of the write in flight, which may leave
      // less than minLength waiting (the next flush, the timer's in production, sends it).
      for (let i = 0; i < 20 && readFileSync(file).length < total; i++) {
        await new Promise<void>((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())));
      }
    } finally {
      fs.write = write;
    }
    assert.equal(readFileSync(file).length, total);
    assert.ok(sizes.length >= 2, `${sizes.length} writes`);
    // All but the last (the flush) carry at least WRITE_MIN_BYTES.
    for (const size of sizes.slice(0, -1)) assert.ok(size >= WRITE_MIN_BYTES, `a write of ${size} bytes: ${sizes.join(', ')}`);
    closeSync(fd);
  });
});
