// Sleep and wake for tabbyAPI (ExLlama): sleeping unloads the model (the process stays, the VRAM
// is freed) and waking loads it again with the configured load body. The load answers a
// Server-Sent Events stream of progress objects; the model is back once one says
// `"status": "finished"` for `"model_type": "model"` (a draft model finishes first). tabbyAPI goes
// on loading when the client leaves, so a timed-out wake leaves the load running: the scheduler
// treats a failed wake as a broken container. Admin routes take the admin key as `x-admin-key`;
// GET /v1/model takes an API key (the admin key is one) as `x-api-key`.

import { createParser } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import type { Endpoint } from '../../runtime/container-runtime.js';
import type { SleepConfig } from '../../config/schema.js';
import type { SleepControl } from './sleep-control.js';
import type { SleepPhase } from './sleep-call-error.js';
import { isOk, isRecord, parseJson, runSleepOperation, type SleepOperation, type SleepRequest } from './sleep-operation.js';

/** tabbyAPI's admin routes (those behind its admin key, endpoints/core/router.py). */
export const TABBYAPI_CONTROL_PATHS: readonly string[] = Object.freeze([
  '/v1/model/load',
  '/v1/model/unload',
  '/v1/model/embedding/load',
  '/v1/model/embedding/unload',
  '/v1/lora/load',
  '/v1/lora/unload',
  '/v1/template/switch',
  '/v1/template/unload',
  '/v1/sampling/override/switch',
  '/v1/sampling/override/unload',
  '/v1/download',
]);

const SERVER = 'tabbyAPI';

export class TabbyApiSleepControl implements SleepControl {
  readonly controlPaths = TABBYAPI_CONTROL_PATHS;

  constructor(private readonly config: Pick<SleepConfig, 'timeoutMs' | 'adminKey' | 'load'>) {}

  /** Unloads the model. An unload refused because nothing is loaded is a success: the status call decides. */
  sleep(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('sleep', endpoint, signal, async (op) => {
      const unload: SleepRequest = { method: 'POST', path: '/v1/model/unload', headers: this.adminHeaders() };
      const answer = await op.send(unload);
      if (isAuthFailure(answer.statusCode)) throw op.badStatus(unload, answer);
      const model = await this.loadedModel(op);
      if (model === undefined) return;
      throw isOk(answer.statusCode)
        ? op.fail(this.statusCall(), `model '${model}' is still loaded although POST /v1/model/unload answered ${answer.statusCode}`)
        : op.badStatus(unload, answer);
    });
  }

  wake(endpoint: Endpoint, signal?: AbortSignal): Promise<void> {
    return this.run('wake', endpoint, signal, async (op) => {
      const load: SleepRequest = { method: 'POST', path: '/v1/model/load', headers: this.adminHeaders(), json: this.config.load ?? {} };
      const res = await op.open(load);
      if (!isOk(res.statusCode)) throw op.badStatus(load, await op.read(load, res));
      await readLoadProgress(op, load, res);
    });
  }

  isAsleep(endpoint: Endpoint, signal?: AbortSignal): Promise<boolean> {
    return this.run('status', endpoint, signal, async (op) => (await this.loadedModel(op)) === undefined);
  }

  /** The id of the loaded model, undefined when none is: GET /v1/model fails or names none. */
  private async loadedModel(op: SleepOperation): Promise<string | undefined> {
    const call = this.statusCall();
    const answer = await op.send(call);
    if (isAuthFailure(answer.statusCode)) throw op.badStatus(call, answer);
    if (!isOk(answer.statusCode)) return undefined;
    const value = parseJson(answer.text);
    return isRecord(value) && typeof value.id === 'string' && value.id !== '' ? value.id : undefined;
  }

  private statusCall(): SleepRequest {
    return { method: 'GET', path: '/v1/model', headers: this.config.adminKey ? { 'x-api-key': this.config.adminKey } : {} };
  }

  private adminHeaders(): Record<string, string> {
    return this.config.adminKey ? { 'x-admin-key': this.config.adminKey } : {};
  }

  private run<T>(phase: SleepPhase, endpoint: Endpoint, signal: AbortSignal | undefined, fn: (op: SleepOperation) => Promise<T>): Promise<T> {
    return runSleepOperation({ server: SERVER, phase, endpoint, timeoutMs: this.config.timeoutMs, signal, hintFor }, fn);
  }
}

function isAuthFailure(statusCode: number): boolean {
  return statusCode === 401 || statusCode === 403;
}

function hintFor(statusCode: number, call: SleepRequest): string | undefined {
  if (isAuthFailure(statusCode)) return "Set sleep.adminKey to the admin_key of tabbyAPI's api_tokens.yml.";
  if (statusCode === 400 && call.path === '/v1/model/load') return 'Check sleep.load: model_name must name a folder under tabbyAPI\'s model_dir.';
  return undefined;
}

/** Reads the load's progress stream until the main model has finished; an error event, or an end before that, fails the wake. */
async function readLoadProgress(op: SleepOperation, load: SleepRequest, res: Dispatcher.ResponseData): Promise<void> {
  let finished = false;
  let error: string | undefined;
  let last: string | undefined;
  const onProgress = (data: string) => {
    last = data;
    const value = parseJson(data);
    if (!isRecord(value)) return;
    if (value.error !== undefined) {
      error = isRecord(value.error) && typeof value.error.message === 'string' ? value.error.message : JSON.stringify(value.error);
    } else if (value.status === 'finished' && value.model_type === 'model') {
      finished = true;
    }
  };
  const contentType = String(res.headers['content-type'] ?? '');
  try {
    if (contentType.startsWith('text/event-stream')) {
      const parser = createParser({ onEvent: (event) => onProgress(event.data) });
      const decoder = new TextDecoder();
      // Leaving the loop early destroys the body.
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (finished || error !== undefined) break;
      }
    } else {
      onProgress(await res.body.text()); // a server that answers one JSON object
    }
  } catch (err) {
    throw op.callFailed(load, err);
  }
  if (error !== undefined) throw op.fail(load, `the load reported an error: ${error}`, { statusCode: res.statusCode, body: last });
  if (!finished) {
    throw op.fail(load, 'the progress stream ended before the model finished loading (no "finished" event for model_type "model")', {
      statusCode: res.statusCode,
      body: last,
    });
  }
}
