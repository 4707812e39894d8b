// Why a command that talks to a running swapdock (ps, load, unload, logs) failed, in words that
// say what to do next. Each carries the exit code the command ends with.

/** Exit codes: 0 done, 1 a failure (server, model, key), 2 the command line itself is wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export abstract class ClientError extends Error {
  readonly exitCode: number = EXIT_FAILURE;
}

/** The command line is wrong: a missing argument, a bad --url. */
export class UsageError extends ClientError {
  override readonly exitCode = EXIT_USAGE;
}

/** Nothing answers at the URL (refused, unknown host, timeout). */
export class ServerUnreachableError extends ClientError {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`swapdock is not answering at ${url} (${reason}). Start it with \`swapdock serve\`, or point --url / SWAPDOCK_URL at it.`);
  }
}

/** 401 or 403 from the admin API. */
export class ServerAuthError extends ClientError {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly keySent: boolean,
  ) {
    super(authMessage(url, status, keySent));
  }
}

function authMessage(url: string, status: number, keySent: boolean): string {
  if (status === 403) {
    return `swapdock at ${url} refused the key in SWAPDOCK_API_KEY: it is not an admin key, and ps, load, unload and logs use the admin API. Set SWAPDOCK_API_KEY to a key with admin: true in auth.keys.`;
  }
  if (!keySent) {
    return `swapdock at ${url} needs an API key, and SWAPDOCK_API_KEY is not set. Set it to an admin key (an auth.keys entry with admin: true), e.g. export SWAPDOCK_API_KEY=…`;
  }
  return `swapdock at ${url} refused the key in SWAPDOCK_API_KEY: it matches none of its auth.keys. Check the value of SWAPDOCK_API_KEY.`;
}

/** The model named on the command line is neither an id nor an alias of the server's models. */
export class UnknownModelError extends ClientError {
  constructor(
    readonly url: string,
    readonly requested: string,
    readonly models: { id: string; aliases: string[] }[],
  ) {
    const listed = models.map((m) => (m.aliases.length ? `${m.id} (alias ${m.aliases.join(', ')})` : m.id)).join(', ');
    super(`swapdock at ${url} has no model '${requested}'. Its models: ${listed || '(none)'}.`);
  }
}

/** Any other answer that is not a success: the server's own message, which says what to do. */
export class ServerRequestError extends ClientError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`swapdock answered ${status}${code ? ` (${code})` : ''}: ${message}`);
  }
}

/** Something answers at the URL, but not the way swapdock does. */
export class NotSwapdockError extends ClientError {
  constructor(url: string, what: string) {
    super(`${url} answered, but not as swapdock does (${what}). Is --url / SWAPDOCK_URL pointing at swapdock?`);
  }
}

/** The connection broke after swapdock had answered (it stopped or restarted mid-stream). */
export class ConnectionLostError extends ClientError {
  constructor(url: string, reason: string) {
    super(`The connection to swapdock at ${url} broke (${reason}); it may have stopped or restarted.`);
  }
}
