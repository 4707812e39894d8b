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
  it('counts starting and ready models as resident', () => {
    assert.deepEqual(
      (['stopped', 'starting', 'ready', 'stopping', 'failed'] as const).filter(isResident),
      ['starting', 'ready'],
    );
  });
});
