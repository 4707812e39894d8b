// Readiness: probe the backend's health URL until it answers 200, while watching the container
// so that a crash fails at once with its exit code and last log lines instead of waiting out the
// timeout. Engine health checks are not used: they never run on Podman without systemd.
// This only observes; stopping or removing a failed container is the caller's decision.

import { request } from '../util/undici-core.js';
import type { ContainerRuntime, Endpoint } from './container-runtime.js';
import { ContainerExitedError, ReadinessTimeoutError } from './runtime-errors.js';
import { retryUntil, RetryTimeoutError } from '../util/retry-until.js';

export interface WaitForReadyOptions {
  runtime: ContainerRuntime;
  containerId: string;
  endpoint: Endpoint;
  /** Path probed with GET, e.g. `/health`. */
  healthPath: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** How many log lines the errors carry. */
  lastLogLines?: number;
  /** How often the container's state is checked; the HTTP probe itself starts at 10 ms. */
  inspectIntervalMs?: number;
}

const PROBE_TIMEOUT_MS = 2_000;
const STILL_ALIVE = new Set(['created', 'running', 'restarting', 'paused']);

export function healthUrl(endpoint: Endpoint, healthPath: string): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `http://${host}:${endpoint.port}${healthPath.startsWith('/') ? '' : '/'}${healthPath}`;
}

export async function waitForReady(opts: WaitForReadyOptions): Promise<void> {
  const { runtime, containerId, timeoutMs, signal, lastLogLines = 20, inspectIntervalMs = 150 } = opts;
  const url = healthUrl(opts.endpoint, opts.healthPath);
  // One controller ends both loops (and any probe in flight) when either finishes.
  const done = new AbortController();
  const loopSignal = signal ? AbortSignal.any([signal, done.signal]) : done.signal;
  const tail = () => runtime.logs(containerId, lastLogLines).catch(() => [] as string[]);

  const exitedError = async (): Promise<ContainerExitedError | undefined> => {
    const info = await runtime.inspect(containerId);
    if (info && STILL_ALIVE.has(info.state)) return undefined;
    return new ContainerExitedError(containerId, info?.exitCode, info?.oomKilled ?? false, await tail());
  };

  const probe = retryUntil(
    async () => {
      try {
        const res = await request(url, {
          method: 'GET',
          signal: loopSignal,
          headersTimeout: PROBE_TIMEOUT_MS,
          bodyTimeout: PROBE_TIMEOUT_MS,
        });
        // Consume the body so the connection is released before the next probe.
        await res.body.dump();
        return res.statusCode === 200 ? true : undefined;
      } catch (err) {
        if (loopSignal.aborted) throw err;
        return undefined; // refused / reset / timed out: not listening yet
      }
    },
    // Capped at 50 ms: a model that loads for minutes is seen ready within ~50 ms, at 20 cheap probes a second.
    { timeoutMs, initialIntervalMs: 10, maxIntervalMs: 50, factor: 1.5, signal: loopSignal },
  );

  const watch = retryUntil(
    async () => {
      const err = await exitedError();
      if (err) throw err;
      return undefined;
    },
    {
      // The probe's timeout decides; this loop only has to outlive it.
      timeoutMs: timeoutMs + 60_000,
      initialIntervalMs: inspectIntervalMs,
      maxIntervalMs: inspectIntervalMs,
      factor: 1,
      signal: loopSignal,
    },
  );

  // The loser rejects with the abort reason once `done` fires; nobody awaits it.
  probe.catch(() => {});
  watch.catch(() => {});
  try {
    await Promise.race([probe, watch]);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof RetryTimeoutError) {
      // A crash between two inspects would otherwise be reported as a timeout.
      const exited = await exitedError().catch(() => undefined);
      throw exited ?? new ReadinessTimeoutError(containerId, timeoutMs, url, await tail());
    }
    throw err;
  } finally {
    done.abort();
  }
}
