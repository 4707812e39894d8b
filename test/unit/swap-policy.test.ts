import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, isResident } from '../../src/scheduler/model-state.js';
import { evictionFor, type ModelView } from '../../src/scheduler/swap-policy.js';

const view = (id: string, usesGpu: boolean, status: ModelView['status']): ModelView => ({ id, usesGpu, status });

describe('evictionFor', () => {
  it('evicts every other resident GPU model for a GPU target', () => {
    const models = [
      view('big', true, 'ready'),
      view('loading', true, 'starting'),
      view('cold', true, 'stopped'),
      view('broken', true, 'failed'),
      view('embed', false, 'ready'),
      view('target', true, 'stopped'),
    ];
    const decision = evictionFor(view('target', true, 'stopped'), models);
    assert.deepEqual(decision.evict, ['big', 'loading']);
    assert.match(decision.reason, /GPU models are exclusive/);
  });
  it('never evicts the target itself', () => {
    assert.deepEqual(evictionFor(view('a', true, 'ready'), [view('a', true, 'ready')]).evict, []);
  });
  it('lets CPU-only models run beside anything', () => {
    const models = [view('big', true, 'ready'), view('other-cpu', false, 'ready')];
    assert.deepEqual(evictionFor(view('cpu', false, 'stopped'), models).evict, []);
  });
  it('evicts nothing when no other GPU model is loaded', () => {
    const decision = evictionFor(view('g', true, 'stopped'), [view('h', true, 'stopping'), view('c', false, 'ready')]);
    assert.deepEqual(decision.evict, []);
  });
});

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
