import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectFailure, maySendAgainAfterCrash, type FailedAttempt } from '../../src/scheduler/crash-resend.js';

// A request that got no response from a container found dead.
const base: FailedAttempt = { noResponse: true, connectFailed: false, grantedAfterFailure: false, fromQueue: false, replayable: true, resent: false };

describe('sending a request again after a crash', () => {
  it('sends a request that arrived after the crash again: its connection was refused', () => {
    assert.equal(maySendAgainAfterCrash({ ...base, connectFailed: true }), true);
  });
  it('sends a request again that was handed the container after another request on it had lost its connection', () => {
    assert.equal(maySendAgainAfterCrash({ ...base, grantedAfterFailure: true }), true);
  });
  it('does not send again a request that was in flight when the container died', () => {
    assert.equal(maySendAgainAfterCrash(base), false, 'no sign it came after the crash: it may be what killed the backend');
  });
  it('does not send again a request that was queued when the container died', () => {
    assert.equal(maySendAgainAfterCrash({ ...base, connectFailed: true, grantedAfterFailure: true, fromQueue: true }), false);
  });
  it('never sends again a body that cannot be replayed, an answer that had begun, or a second time', () => {
    const after = { ...base, connectFailed: true, grantedAfterFailure: true };
    assert.equal(maySendAgainAfterCrash({ ...after, replayable: false }), false, 'a streamed body was consumed');
    assert.equal(maySendAgainAfterCrash({ ...after, noResponse: false }), false, 'the response head went out');
    assert.equal(maySendAgainAfterCrash({ ...after, resent: true }), false, 'at most once');
  });
  it('tells a refused connection from one that broke after it was made', () => {
    assert.equal(isConnectFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isConnectFailure(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), false);
    assert.equal(isConnectFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), false);
    assert.equal(isConnectFailure(new Error('no code')), false);
    assert.equal(isConnectFailure(undefined), false);
  });
});
