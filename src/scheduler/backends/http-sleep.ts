// Sleep and wake for any server with its own HTTP calls for them (sleep.kind 'http'): the config
// names the sleep call, the wake call and, optionally, a status call. A 2xx answers success; the
// status call answers JSON `true`/`false` or an object with a boolean `asleep` or `is_sleeping`.
// With a status call, a sleep (and a wake) is checked with it, as for vLLM; without one the
// server's word is taken and whether it sleeps cannot be told after a restart.

import type { Endpoint } from '../../runtime/container-runtime.js';
import type { HttpCall, SleepConfig } from '../../config/schema.js';
import type { SleepControl } from './sleep-control.js';
import type { SleepPhase } from './sleep-call-error.js';
import { isRecord, parseJson, pathOnly, runSleepOperation, type SleepOperation } from './sleep-operation.js';

const SERVER = 'HTTP';

export class HttpSleepControl implements SleepControl {
  readonly controlPaths: readonly string[];
  private readonly sleepRequest: HttpCall;
  private readonly wakeRequest: HttpCall;

  constructor(private readonly config: Pick<SleepConfig, 'timeoutMs' | 'sleepRequest' | 'wakeRequest' | 'statusRequest'>) {
    if (!config.sleepRequest || !config.wakeRequest) {
      throw new Error("sleep.kind 'http' needs sleep.sleepRequest and sleep.wakeRequest (each a method and a path).");
    }
    this.sleepRequest = config.sleepRequest;
    this.wakeRequest = config.wakeRequest;
    const calls = [config.sleepRequest, config.wakeRequest, config.statusRequest];
    this.controlPaths = Object.freeze([...new Set(calls.flatMap((call) => (call ? [pathOnly(call.path)] : [])))]);
  }

  sleep(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('sleep', endpoint, signal, async (op) => {
      await op.expectOk(this.sleepRequest);
      await this.expectAsleep(op, true);
    });
  }

  wake(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('wake', endpoint, signal, async (op) => {
      await op.expectOk(this.wakeRequest);
      await this.expectAsleep(op, false);
    });
  }

  async isAsleep(endpoint: Endpoint, signal?: AbortSignal): Promise<boolean | undefined> {
    if (!this.config.statusRequest) return undefined;
    return this.run('status', endpoint, signal, (op) => this.readAsleep(op));
  }

  private async expectAsleep(op: SleepOperation, expected: boolean): Promise<void> {
    const status = this.config.statusRequest;
    if (!status) return;
    const asleep = await this.readAsleep(op);
    if (asleep !== expected) {
      const call = expected ? this.sleepRequest : this.wakeRequest;
      throw op.fail(status, `it says ${asleep ? 'asleep' : 'awake'} although ${call.method.toUpperCase()} ${call.path} answered 2xx`);
    }
  }

  private async readAsleep(op: SleepOperation): Promise<boolean> {
    const call = this.config.statusRequest!;
    const answer = await op.expectOk(call);
    const asleep = asleepIn(parseJson(answer.text));
    if (asleep === undefined) {
      throw op.badStatus(call, answer, 'the answer is neither JSON true/false nor an object with a boolean "asleep" or "is_sleeping"');
    }
    return asleep;
  }

  private run<T>(phase: SleepPhase, endpoint: Endpoint, signal: AbortSignal | undefined, fn: (op: SleepOperation) => Promise<T>): Promise<T> {
    return runSleepOperation({ server: SERVER, phase, endpoint, timeoutMs: this.config.timeoutMs, signal }, fn);
  }
}

function asleepIn(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (!isRecord(value)) return undefined;
  if (typeof value.asleep === 'boolean') return value.asleep;
  if (typeof value.is_sleeping === 'boolean') return value.is_sleeping;
  return undefined;
}
