// Whether a request that failed on a container that turned out dead may be sent again, on a new
// container, instead of failing with the crash: pure.
//
// Only a request that arrived after the crash is sent again — it reached the dead container only
// because the engine reports a death 50–250 ms late: it was handed the container as it arrived
// (not out of the queue), and either its connection was refused (nothing listened any more: the
// backend never saw it) or another request on that container had already lost its connection
// (a client retrying at once when its stream broke). A request in flight when the container died
// (it may be what killed it), or queued then, gets the crash error, as documented. The body must
// be replayable (held in memory, not a stream already consumed); a request is sent again once.

export interface FailedAttempt {
  /** The backend never answered with a response head. */
  noResponse: boolean;
  /** The connection was refused / never established (see `isConnectFailure`). */
  connectFailed: boolean;
  /** The lease was granted after a request on the same container had lost its connection. */
  grantedAfterFailure: boolean;
  /** The lease went to a request that had waited in the queue (it was there when the container died). */
  fromQueue: boolean;
  /** The body can be sent again (a Buffer, or none). */
  replayable: boolean;
  /** This already was the second attempt. */
  resent: boolean;
}

export function maySendAgainAfterCrash(attempt: FailedAttempt): boolean {
  if (!attempt.noResponse || !attempt.replayable || attempt.resent || attempt.fromQueue) return false;
  return attempt.connectFailed || attempt.grantedAfterFailure;
}

// Errors of the connect phase: the request never left swapdock.
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

export function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECT_FAILURES.has(code);
}

/** Internal: the failed request is to be sent again on a new container; carries the crash error for when it is not. */
export class SendAgainOnNewContainer extends Error {
  constructor(readonly crash: Error) {
    super(`internal: resend after a crash (${crash.message})`);
  }
}
