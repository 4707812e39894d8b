// The one error the sleep clients throw. A failed sleep or wake must say which call failed on
// which server, how (status, timeout, refused connection, an answer that did not hold) and what
// the server said, so that the log line alone is enough to fix the config or the server. It is a
// SwapdockError (503) because a request that waits for a wake gets it as its answer.

import { SwapdockError } from '../../errors.js';

/** Which operation failed: a sleep, a wake, or the question whether the server sleeps. */
export type SleepPhase = 'sleep' | 'wake' | 'status';

export interface SleepCallFailure {
  phase: SleepPhase;
  /** The kind of server, as its users name it: `vLLM`, `tabbyAPI`, `HTTP`. */
  server: string;
  /** The call that failed, e.g. `POST /sleep?level=1`. */
  call: string;
  /** `host:port` of the server. */
  address: string;
  /** What went wrong: `HTTP 500`, `timed out after 200 ms (sleep.timeoutMs)`, `connect ECONNREFUSED …`. */
  problem: string;
  statusCode?: number;
  timedOut?: boolean;
  /** The answer's body; only its first 200 characters are kept. */
  body?: string;
  /** What to check next, when the failure suggests it. */
  hint?: string;
}

const BODY_CHARS = 200;

export class SleepCallError extends SwapdockError {
  readonly status = 503;
  readonly type = 'service_unavailable';
  readonly code: string;
  readonly phase: SleepPhase;
  readonly call: string;
  readonly address: string;
  readonly statusCode?: number;
  readonly timedOut: boolean;
  readonly body?: string;

  constructor(failure: SleepCallFailure) {
    const body = failure.body === undefined ? undefined : failure.body.replace(/\s+/g, ' ').trim().slice(0, BODY_CHARS);
    super(
      `${failure.server} ${failure.phase} call ${failure.call} to ${failure.address} failed: ${failure.problem}` +
        (body ? `; body: ${body}` : '') + '.' + (failure.hint ? ` ${failure.hint}` : ''),
    );
    this.name = 'SleepCallError';
    this.code = failure.phase === 'status' ? 'sleep_status_failed' : `${failure.phase}_failed`;
    this.phase = failure.phase;
    this.call = failure.call;
    this.address = failure.address;
    this.statusCode = failure.statusCode;
    this.timedOut = failure.timedOut ?? false;
    this.body = body;
  }
}
