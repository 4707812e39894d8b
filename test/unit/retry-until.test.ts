import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryUntil, RetryTimeoutError } from '../../src/util/retry-until.js';

/** A fake clock: sleep advances it instantly and records the waits. */
function fakeClock() {
  let nowMs = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => nowMs,
    sleep: async (ms: number) => {
      waits.push(ms);
      nowMs += ms;
    },
  };
}

test('retryUntil resolves with the first defined value, waiting with a growing, capped interval', async () => {
  const clock = fakeClock();
  const value = await retryUntil((attempt) => (attempt === 6 ? `done@${attempt}` : undefined), {
    timeoutMs: 10_000, initialIntervalMs: 10, factor: 2, maxIntervalMs: 50, now: clock.now, sleep: clock.sleep,
  });
  assert.equal(value, 'done@6');
  assert.deepEqual(clock.waits, [10, 20, 40, 50, 50]);
});

test('retryUntil makes a last attempt at the deadline, then throws RetryTimeoutError', async () => {
  const clock = fakeClock();
  let attempts = 0;
  await assert.rejects(
    retryUntil(() => void attempts++, { timeoutMs: 100, initialIntervalMs: 30, factor: 1, now: clock.now, sleep: clock.sleep }),
    (err) => err instanceof RetryTimeoutError && err.timeoutMs === 100 && err.attempts === attempts,
  );
  assert.deepEqual(clock.waits, [30, 30, 30, 10]);
  assert.equal(attempts, 5);
});

test('retryUntil stops at once on an error thrown by fn, and on abort', async () => {
  await assert.rejects(retryUntil(() => Promise.reject(new Error('boom')), { timeoutMs: 1_000 }), /boom/);
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(new Error('stop now')), 30);
  await assert.rejects(retryUntil(() => undefined, { timeoutMs: 10_000, initialIntervalMs: 5_000, signal: ac.signal }), /stop now/);
  assert.ok(performance.now() - t0 < 2_000);
  await assert.rejects(retryUntil(() => 1, { timeoutMs: 1_000, signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('retryUntil with real timers sees a fast condition within tens of ms', async () => {
  const readyAt = performance.now() + 25;
  const t0 = performance.now();
  await retryUntil(() => (performance.now() >= readyAt ? true : undefined), { timeoutMs: 5_000 });
  assert.ok(performance.now() - t0 < 150, `took ${performance.now() - t0} ms`);
});
