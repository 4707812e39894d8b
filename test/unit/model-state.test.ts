import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, isResident } from '../../src/scheduler/model-state.js';

describe('model state table', () => {
  it('allows the lifecycle and refuses shortcuts', () => {
    assert.ok(canTransition('stopped', 'starting'));
    assert.ok(canTransition('starting', 'ready'));
    assert.ok(canTransition('ready', 'stopping'));
    assert.ok(canTransition('stopping', 'stopped'));
    assert.ok(canTransition('starting', 'failed'));
    assert.ok(canTransition('failed', 'starting'));
    assert.ok(!canTransition('stopped', 'stopping'));
    assert.ok(!canTransition('ready', 'starting'));
    assert.ok(!canTransition('stopping', 'ready'));
  });
  it('sleeps only from ready (or by adoption), and leaves sleep by a wake, a stop or a crash', () => {
    assert.ok(canTransition('ready', 'sleeping'));
    assert.ok(canTransition('stopped', 'sleeping'));
    assert.ok(canTransition('sleeping', 'starting'));
    assert.ok(canTransition('sleeping', 'stopping'));
    assert.ok(canTransition('sleeping', 'failed'));
    assert.ok(!canTransition('starting', 'sleeping'));
    assert.ok(!canTransition('sleeping', 'ready'));
    assert.ok(!canTransition('sleeping', 'stopped'));
  });
  it('counts starting and ready models as resident', () => {
    assert.deepEqual(
      (['stopped', 'starting', 'ready', 'sleeping', 'stopping', 'failed'] as const).filter(isResident),
      ['starting', 'ready'],
    );
  });
});
