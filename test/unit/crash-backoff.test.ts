import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_MAX_MS, HEALTHY_UPTIME_MS, nextStartAllowedAt, recordFailure } from '../../src/scheduler/crash-backoff.js';

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
});
