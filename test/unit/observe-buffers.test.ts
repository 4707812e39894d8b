// The pure parts of logs and events: the ring buffer, the engine's log frame splitter, the
// usage / time-to-first-byte meter of proxied responses, and swapdock's own log tail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ResponseMeter, readUsageAt } from '../../src/proxy/response-meter.js';
import { LogFrameSplitter } from '../../src/runtime/docker-logs.js';
import { LogTail, teeLogger } from '../../src/util/log-tail.js';
import { RingBuffer } from '../../src/util/ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps the newest items, oldest first, and drops the oldest beyond capacity', () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(ring.toArray(), []);
    ring.push(1);
    ring.push(2);
    assert.deepEqual(ring.toArray(), [1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    assert.equal(ring.size, 3);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.deepEqual(ring.toArray(2), [4, 5]);
    for (let n = 6; n < 100; n++) ring.push(n);
    assert.deepEqual(ring.toArray(), [97, 98, 99]);
    ring.clear();
    assert.deepEqual(ring.toArray(), []);
    assert.throws(() => new RingBuffer(0), RangeError);
  });
});

const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
};

describe('LogFrameSplitter (engine log stream)', () => {
  it('demultiplexes stdout and stderr frames into lines with the engine timestamps', () => {
    const splitter = new LogFrameSplitter();
    const bytes = Buffer.concat([
      frame(1, '2026-01-02T03:04:05.123456789Z hello\n'),
      frame(2, '2026-01-02T03:04:06.5Z oops: é\n2026-01-02T03:04:07Z second\n'),
      frame(1, '2026-01-02T03:04:08Z no newline yet'),
    ]);
    // Byte by byte: frames, lines and UTF-8 characters split anywhere.
    const lines = [...bytes].flatMap((b) => splitter.push(Buffer.from([b])));
    assert.deepEqual(lines, [
      { stream: 'stdout', line: 'hello', at: Date.parse('2026-01-02T03:04:05.123Z') },
      { stream: 'stderr', line: 'oops: é', at: Date.parse('2026-01-02T03:04:06.5Z') },
      { stream: 'stderr', line: 'second', at: Date.parse('2026-01-02T03:04:07Z') },
    ]);
    assert.deepEqual(splitter.end(), [{ stream: 'stdout', line: 'no newline yet', at: Date.parse('2026-01-02T03:04:08Z') }]);
  });

  it('reads a TTY stream (no frames) as stdout text; lines without a timestamp get the time of arrival', () => {
    const splitter = new LogFrameSplitter(() => 42);
    assert.deepEqual(splitter.push(Buffer.from('plain line one\r\nline two\n')), [
      { stream: 'stdout', line: 'plain line one', at: 42 },
      { stream: 'stdout', line: 'line two', at: 42 },
    ]);
  });
});

describe('ResponseMeter (usage and time to first byte)', () => {
  it('reads OpenAI usage from a JSON body, nested details included, split across chunks', () => {
    const meter = new ResponseMeter();
    const body = JSON.stringify({ id: 'x', choices: [{ message: { content: 'the word "usage" in text' } }], usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46, prompt_tokens_details: { cached_tokens: 0 } } });
    const cut = body.indexOf('completion_tokens');
    meter.onData(Buffer.from(body.slice(0, cut)));
    assert.ok(meter.firstByteAt !== undefined);
    meter.onData(Buffer.from(body.slice(cut)));
    assert.equal(meter.tokensIn, 12);
    assert.equal(meter.tokensOut, 34);
  });

  it('reads the usage chunk of an OpenAI stream and ignores chunks without usage or with usage null', () => {
    const meter = new ResponseMeter();
    meter.onData(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'));
    assert.equal(meter.tokensIn, undefined);
    meter.onData(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}\n\ndata: [DONE]\n\n'));
    assert.deepEqual([meter.tokensIn, meter.tokensOut], [5, 7]);
  });

  it('reads Anthropic usage: input tokens from message_start, output tokens from the last message_delta', () => {
    const meter = new ResponseMeter();
    meter.onData(Buffer.from('event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1}}}\n\n'));
    meter.onData(Buffer.from('event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hello"}}\n\n'));
    meter.onData(Buffer.from('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n'));
    assert.deepEqual([meter.tokensIn, meter.tokensOut], [25, 15]);
  });

  it('readUsageAt: values that are not usage objects are ignored; a cut object is incomplete', () => {
    const at = (text: string) => readUsageAt(text, text.indexOf('"usage"') + 7);
    assert.equal(at('"usage": "none"'), undefined);
    assert.equal(at('"usage":{"other":1}'), undefined);
    assert.equal(at('"usage":{"prompt_tokens":1'), 'incomplete');
    assert.deepEqual(at('"usage" : { "input_tokens" : 3 , "note": "}{" }'), { tokensIn: 3, tokensOut: undefined });
  });
});

describe('LogTail (swapdock own log)', () => {
  it('keeps the last lines as entries with at, level and msg; tells live listeners; tees an existing logger', () => {
    const tail = new LogTail(3);
    const log = teeLogger(pino({ level: 'silent' }), tail);
    const live: unknown[] = [];
    log.info({ model: 'm1' }, 'first');
    log.debug('not kept (below info)');
    tail.on('line', (entry) => live.push(entry));
    for (const n of [2, 3, 4]) log.warn(`line ${n}`);
    const history = tail.history();
    assert.deepEqual(history.map((e) => [e.level, e.msg]), [['warn', 'line 2'], ['warn', 'line 3'], ['warn', 'line 4']]);
    assert.equal(typeof history[0]!.at, 'number');
    assert.equal(live.length, 3);
    tail.resize(10);
    log.error({ code: 7 }, 'after resize');
    assert.deepEqual(tail.history().at(-1), { ...tail.history().at(-1), level: 'error', msg: 'after resize', code: 7 });
    assert.equal(tail.history().length, 4);
  });
});
