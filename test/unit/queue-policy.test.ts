import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECENT_USE_MS, drainBlockersAt, orderWaiting, recentlyUsed } from '../../src/scheduler/queue-policy.js';

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

describe('recent use protects a resident from eviction', () => {
  it('only a model that cannot sleep, is not draining, and served within RECENT_USE_MS', () => {
    const now = 10_000;
    assert.equal(recentlyUsed({ lastUsedAt: now - 1, canSleep: false, draining: false }, now), true);
    assert.equal(recentlyUsed({ lastUsedAt: now - RECENT_USE_MS, canSleep: false, draining: false }, now), false);
    assert.equal(recentlyUsed({ lastUsedAt: now - 1, canSleep: true, draining: false }, now), false, 'a model that can sleep comes back in a wake: not protected');
    assert.equal(recentlyUsed({ lastUsedAt: now - 1, canSleep: false, draining: true }, now), false);
  });
});
