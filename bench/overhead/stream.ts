// Streaming measurement: one streamed completion's time to first byte and per-chunk delivery delay.
import { request, type Agent } from 'node:http';
import { STREAM } from './plan.js';

export interface StreamSample {
  ttfbMs: number;
  /** Per chunk: client arrival minus backend write, ms. */
  chunkDelaysMs: number[];
}

export function streamOnce(baseUrl: string, agent: Agent, model: string, headers: Record<string, string> = {}): Promise<StreamSample> {
  const url = new URL(`${baseUrl}/v1/chat/completions`);
  const body = JSON.stringify({
    model, messages: [{ role: 'user', content: 'Count.' }], stream: true,
    fake_chunks: STREAM.chunks, fake_chunk_delay_ms: STREAM.intervalMs,
  });
  return new Promise((resolve, reject) => {
    let started = 0n;
    let ttfbMs = NaN;
    let pending = '';
    const chunkDelaysMs: number[] = [];
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const now = process.hrtime.bigint();
          if (Number.isNaN(ttfbMs)) ttfbMs = Number(now - started) / 1e6;
          pending += text;
          // Stamps of events complete in this read; a split event is finished by the next read.
          let end: number;
          while ((end = pending.indexOf('\n\n')) !== -1) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const stamp = /"bench_sent_ns":"(\d+)"/.exec(event);
            if (stamp) chunkDelaysMs.push(Number(now - BigInt(stamp[1]!)) / 1e6);
          }
        });
        res.on('end', () => {
          if (chunkDelaysMs.length !== STREAM.chunks) reject(new Error(`got ${chunkDelaysMs.length} stamped chunks, expected ${STREAM.chunks}`));
          else resolve({ ttfbMs, chunkDelaysMs });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    started = process.hrtime.bigint();
    req.end(body);
  });
}
