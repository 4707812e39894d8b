// The benchmark's backend: test/fixtures/fake-model/server.js unchanged, with three changes that
// cost the same whether the client connects directly or through swapdock:
//  1. Its per-request log lines are dropped. FakeRuntime pipes a child's stdout into the swapdock
//     process (to serve `logs`); a real engine does not, so those lines would bill the proxy's
//     core for work production never does.
//  2. Every streamed `data: {…}` event gets `"bench_sent_ns"`: the CLOCK_MONOTONIC time (shared
//     by all processes of the machine) at which the backend wrote it, so the client can compute
//     each chunk's delivery delay exactly instead of guessing it from timer-driven arrival times.
//     Non-streaming answers use res.end(), never res.write(), so they are not touched.
//  3. `setTimeout(fn, 0)` runs as setImmediate. server.js awaits sleep(FAKE_RESPONSE_DELAY_MS = 0)
//     before every non-streaming answer, and Node turns a 0 ms timeout into 1 ms: that put a
//     1–2 ms timer floor (with its millisecond quantization) under every request at 1 connection,
//     which swamps the fraction of a millisecond being measured.
import http from 'node:http';

process.stdout.write = () => true;

const write = http.ServerResponse.prototype.write;
http.ServerResponse.prototype.write = function stampedWrite(chunk, ...rest) {
  if (typeof chunk === 'string' && chunk.startsWith('data: {')) {
    chunk = `data: {"bench_sent_ns":"${process.hrtime.bigint()}",${chunk.slice('data: {'.length)}`;
  }
  return write.call(this, chunk, ...rest);
};

const setTimeoutMs = globalThis.setTimeout;
globalThis.setTimeout = function zeroDelayImmediately(fn, ms, ...rest) {
  return ms > 0 ? setTimeoutMs(fn, ms, ...rest) : setImmediate(fn, ...rest);
};

await import('../test/fixtures/fake-model/server.js');
