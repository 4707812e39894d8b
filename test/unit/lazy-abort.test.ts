import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyAbort, whenCancelled } from '../../src/util/lazy-abort.js';

describe('LazyAbort', () => {
  it('creates no AbortSignal until asked, and a late signal is already aborted with the reason', () => {
    const cancel = new LazyAbort();
    assert.equal(cancel.aborted, false);
    assert.equal((cancel as unknown as { controller?: AbortController }).controller, undefined);
    const reason = new Error('client left');
    cancel.abort(reason);
    assert.equal(cancel.aborted, true);
    assert.equal(cancel.reason, reason);
    assert.equal(cancel.signal.aborted, true);
    assert.equal(cancel.signal.reason, reason);
  });

  it('aborts a signal taken before the abort, once', () => {
    const cancel = new LazyAbort();
    const signal = cancel.signal;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    cancel.abort(new Error('first'));
    cancel.abort(new Error('second'));
    assert.equal(fired, 1);
    assert.equal((signal.reason as Error).message, 'first');
  });

  it('calls plain listeners once, and not after they were removed', () => {
    const cancel = new LazyAbort();
    const heard: unknown[] = [];
    whenCancelled(cancel, (r) => heard.push(`a:${(r as Error).message}`));
    const removeB = whenCancelled(cancel, () => heard.push('b'));
    removeB();
    cancel.abort(new Error('gone'));
    cancel.abort(new Error('again'));
    assert.deepEqual(heard, ['a:gone']);
  });

  it('whenCancelled works on a plain AbortSignal too', () => {
    const controller = new AbortController();
    const heard: unknown[] = [];
    const remove = whenCancelled(controller.signal, (r) => heard.push(r));
    controller.abort('why');
    remove();
    assert.deepEqual([...heard], ['why']);
    const other = new AbortController();
    whenCancelled(other.signal, (r) => heard.push(r))();
    other.abort('unheard');
    assert.deepEqual(heard, ['why']);
  });
});
