import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drainBlockersAt, orderWaiting } from '../../src/scheduler/queue-policy.js';

describe('queue policy', () => {
  it('serves the model with the oldest waiter first', () => {
    const order = orderWaiting([{ id: 'b', oldestEnqueuedAt: 20 }, { id: 'a', oldestEnqueuedAt: 10 }, { id: 'c', oldestEnqueuedAt: 30 }]);
    assert.deepEqual(order.map((w) => w.id), ['a', 'b', 'c']);
  });
  it('fifo drains the models in the way at once', () => {
    assert.equal(drainBlockersAt('fifo', { id: 'a', oldestEnqueuedAt: 1000 }, 30_000), 1000);
  });
  it('grouped lets the busy model keep serving for at most swap.maxWait', () => {
    assert.equal(drainBlockersAt('grouped', { id: 'a', oldestEnqueuedAt: 1000 }, 30_000), 31_000);
  });
  it('grouped gives a model that just loaded a minimum residency, even for an overdue target', () => {
    assert.equal(drainBlockersAt('grouped', { id: 'a', oldestEnqueuedAt: 1000 }, 30_000, 40_000), 47_500);
    assert.equal(drainBlockersAt('fifo', { id: 'a', oldestEnqueuedAt: 1000 }, 30_000, 40_000), 1000);
  });
});
