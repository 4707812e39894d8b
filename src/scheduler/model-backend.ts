// The backend seam: how a model is started and checked ready, stopped, put to sleep and woken.
// The scheduler decides *when* (its policies and machinery); a ModelBackend does it. The real one,
// `containerBackend`, runs containers through the ContainerRuntime, probes readiness over HTTP and
// sleeps through the model's SleepControl (one client per sleep kind, backends/). Tests of the
// scheduler's timing pass an instant backend and fake timers instead.
import type { ModelConfig } from '../config/schema.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { waitForReady, type WaitForReadyOptions } from '../runtime/wait-for-ready.js';
import { sleepControlFor, type SleepControl } from './backends/sleep-control.js';
import { startModelContainer, stopModelContainer, type RunningContainer, type StartOptions } from './container-lifecycle.js';

export interface ModelBackend {
  /** Creates and starts the model's container and resolves once it serves. */
  start(options: StartOptions): Promise<RunningContainer>;
  /** Stops and removes a container (idempotent). */
  stop(runtime: ContainerRuntime, containerId: string, stopTimeoutMs: number): Promise<void>;
  /** Resolves once a running container serves (after a wake, on adoption). */
  ready(options: WaitForReadyOptions): Promise<void>;
  /** How the model sleeps and wakes; undefined when it has no sleep kind. */
  sleepControl(model: ModelConfig): SleepControl | undefined;
}

const controls = new WeakMap<object, SleepControl>();

/** The sleep client of a model (one per model config), or undefined when it cannot sleep. */
export function sleepControlOf(model: ModelConfig): SleepControl | undefined {
  if (!model.sleep) return undefined;
  let control = controls.get(model.sleep);
  if (!control) controls.set(model.sleep, (control = sleepControlFor(model.sleep)));
  return control;
}

export const containerBackend: ModelBackend = {
  start: startModelContainer,
  stop: stopModelContainer,
  ready: waitForReady,
  sleepControl: sleepControlOf,
};
