// What start() returns: a running container with its endpoint, or the reason it has none.
// A container that exits right after its start races the inspect that follows it: the engine
// may already report it exited (no ports), or still `running` while it is torn down with its
// ports gone. Either way the caller must get ContainerExitedError with the exit code and the
// last log lines, never a running container without an address.

import type { ContainerInfo } from './container-runtime.js';
import { ContainerExitedError, ContainerNotFoundError } from './runtime-errors.js';
import { EngineError } from '../errors.js';
import { retryUntil, RetryTimeoutError } from '../util/retry-until.js';

export interface SettleDeps {
  inspect(id: string): Promise<ContainerInfo | undefined>;
  logs(id: string, lines: number): Promise<string[]>;
}

export interface SettleOptions {
  /** How long a running container may show no published port before that is an error. */
  timeoutMs?: number;
  lastLogLines?: number;
}

const GONE = new Set(['exited', 'dead']);

export async function runningWithEndpoint(id: string, deps: SettleDeps, opts: SettleOptions = {}): Promise<ContainerInfo> {
  const { timeoutMs = 10_000, lastLogLines = 20 } = opts;
  let last: ContainerInfo | undefined;
  try {
    return await retryUntil(
      async () => {
        const info = await deps.inspect(id);
        if (!info) throw new ContainerNotFoundError(id);
        last = info;
        if (info.state === 'running' && info.endpoint) return info;
        if (GONE.has(info.state)) {
          const lines = await deps.logs(id, lastLogLines).catch(() => [] as string[]);
          throw new ContainerExitedError(id, info.exitCode, info.oomKilled ?? false, lines);
        }
        return undefined; // running without its port yet (dying, or ports not set up yet): look again
      },
      { timeoutMs, initialIntervalMs: 10, maxIntervalMs: 200, factor: 1.5 },
    );
  } catch (err) {
    if (!(err instanceof RetryTimeoutError)) throw err;
    throw new EngineError(
      `The engine started container ${id.slice(0, 12)} but still reports it ${last?.state ?? 'unknown'} without a published ` +
        `port after ${timeoutMs} ms. Check the engine's log; with engine.network set, check that the network exists.`,
      'model_start_failed',
    );
  }
}
