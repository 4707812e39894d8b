import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_MAX_MS, HEALTHY_UPTIME_MS, backoffDecision, nextStartAllowedAt, recordFailure, recordServed } from '../../src/scheduler/crash-backoff.js';

describe('crash-loop backoff', () => {
  it('retries the first failure at once, then backs off exponentially up to a minute', () => {
    let record = recordFailure(undefined, 1000);
    assert.equal(nextStartAllowedAt(record), 0);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      record = recordFailure(record, 1000);
      delays.push(nextStartAllowedAt(record) - 1000);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, BACKOFF_MAX_MS, BACKOFF_MAX_MS, BACKOFF_MAX_MS]);
  });
  it('does not count a crash after a long healthy run as part of a loop', () => {
    const looping = recordFailure(recordFailure(undefined, 0), 10, 5000);
    assert.equal(looping.consecutive, 2);
    const healthy = recordFailure(looping, 20, HEALTHY_UPTIME_MS + 1);
    assert.equal(healthy.consecutive, 1);
    assert.equal(nextStartAllowedAt(healthy), 0);
  });
  it('allows any start without failures', () => {
    assert.equal(nextStartAllowedAt(undefined), 0);
  });
  it('counts a crash after the model served a request as the first again: "in a row" means no success between', () => {
    const crashedOnce = recordFailure(undefined, 0, 500);
    const served = recordServed(crashedOnce);
    const crashedAgain = recordFailure(served, 2000, 1500);
    assert.equal(crashedAgain.consecutive, 1);
    assert.equal(nextStartAllowedAt(crashedAgain), 0, 'started again at once');
    const unserved = recordFailure(crashedOnce, 2000, 1500);
    assert.equal(unserved.consecutive, 2, 'without a served request between, it is a loop');
  });
});

describe('what a request for a model in backoff gets', () => {
  const twoFailures = recordFailure(recordFailure(undefined, 10_000), 10_000); // next start at 11 000
  it('starts it when there is no backoff, or the backoff is over', () => {
    assert.deepEqual(backoffDecision(undefined, 10_000, 0), { kind: 'start' });
    assert.deepEqual(backoffDecision(recordFailure(undefined, 10_000), 10_000, 0), { kind: 'start' }, 'the first failure is retried at once');
    assert.deepEqual(backoffDecision(twoFailures, 11_000, 0), { kind: 'start' });
  });
  it('waits in the queue for the next attempt when it falls within queue.maxWait', () => {
    assert.deepEqual(backoffDecision(twoFailures, 10_200, 60_000), { kind: 'wait', startAt: 11_000 });
    assert.deepEqual(backoffDecision(twoFailures, 10_200, 800), { kind: 'wait', startAt: 11_000 }, 'exactly at the limit');
  });
  it('is refused, with the time to the next attempt, when it could not wait that long', () => {
    assert.deepEqual(backoffDecision(twoFailures, 10_200, 799), { kind: 'reject', retryAfterMs: 800 });
    let many = twoFailures;
    for (let i = 0; i < 10; i++) many = recordFailure(many, 10_000);
    assert.deepEqual(backoffDecision(many, 10_000, 30_000), { kind: 'reject', retryAfterMs: BACKOFF_MAX_MS });
  });
});
