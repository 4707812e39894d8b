// The one interface through which the scheduler puts a model's server to sleep and wakes it,
// whatever the server: one client per sleep kind (vLLM sleep mode, tabbyAPI unload/load, a
// server's own HTTP calls), chosen from the model's `sleep` config. The scheduler decides when;
// these clients only make the calls, check that they took effect, and say which paths are the
// server's controls, so that the /upstream passthrough can refuse them.

import type { Endpoint } from '../../runtime/container-runtime.js';
import type { SleepConfig } from '../../config/schema.js';
import { HttpSleepControl } from './http-sleep.js';
import { TabbyApiSleepControl } from './tabbyapi-sleep.js';
import { VllmSleepControl } from './vllm-sleep.js';

export { SleepCallError, type SleepPhase } from './sleep-call-error.js';
export { VLLM_CONTROL_PATHS } from './vllm-sleep.js';
export { TABBYAPI_CONTROL_PATHS } from './tabbyapi-sleep.js';

export interface SleepControl {
  /** Puts the model server to sleep; resolves once it is asleep (verified with the status call where the kind has one). Rejects with SleepCallError on failure or timeout. */
  sleep(endpoint: Endpoint, signal?: AbortSignal): Promise<void>;
  /** Wakes it, with the kind's full sequence; resolves when the weights are back (the scheduler then probes readiness itself). Rejects with SleepCallError. */
  wake(endpoint: Endpoint, signal?: AbortSignal): Promise<void>;
  /** Whether it is asleep now (used to adopt a sleeping container after a restart); undefined when the kind cannot tell. */
  isAsleep(endpoint: Endpoint, signal?: AbortSignal): Promise<boolean | undefined>;
  /** Path prefixes of the server's control endpoints: swapdock's /upstream/{model}/… passthrough must never reach them. */
  readonly controlPaths: readonly string[];
}

export function sleepControlFor(sleep: SleepConfig): SleepControl {
  switch (sleep.kind) {
    case 'vllm':
      return new VllmSleepControl(sleep);
    case 'tabbyapi':
      return new TabbyApiSleepControl(sleep);
    case 'http':
      return new HttpSleepControl(sleep);
  }
}

/**
 * Whether a request path (canonical: decoded, without '//' or dot segments; a query is ignored)
 * is one of `controlPaths` or below one, segment-wise (`/pause` covers `/pause/step`, not
 * `/pauses`). Case is ignored: blocking `/SLEEP` too costs nothing.
 */
export function isControlPath(path: string, controlPaths: readonly string[]): boolean {
  const end = path.search(/[?#]/);
  const target = (end === -1 ? path : path.slice(0, end)).toLowerCase();
  return controlPaths.some((control) => {
    const prefix = control.toLowerCase().replace(/\/+$/, '');
    return target === prefix || target.startsWith(`${prefix}/`);
  });
}
