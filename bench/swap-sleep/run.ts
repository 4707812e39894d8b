// One mode of bench:swap: swapdock in-process (startServer: the real HTTP server and proxy) on an
// ObservedRuntime, two GPU models on one exclusive GPU, requested one at a time: each model's
// first (cold) load and a few warm requests, then A, B, A, B… (each request a switch).
import { Agent, request } from 'undici';
import { startServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { SchedulerEvents, type ModelStateEvent } from '../../src/scheduler/scheduler-events.js';
import type { Lease } from '../../src/scheduler/scheduler.js';
import { now } from '../thrash/helpers.js';
import { captureLogger, observeHttp, ObservedRuntime, type HttpCall, type LogEvent } from './observe.js';
import { MODELS, type Grant, type Mode, type ModeRun, type RequestRecord, type Settings } from './types.js';

/** The fake model's delays (env) and, for the sleep modes, vLLM sleep mode at `level`. */
export function configYaml(settings: Settings, mode: Mode): string {
  const env = `{ FAKE_LISTEN_DELAY_MS: "${settings.coldMs}", FAKE_SLEEP_DELAY_MS: "${settings.sleepMs}", FAKE_WAKE_DELAY_MS: "${settings.wakeMs}", FAKE_RELOAD_DELAY_MS: "${settings.reloadMs}" }`;
  const level = mode === 'sleep-l1' ? 1 : mode === 'sleep-l2' ? 2 : undefined;
  const sleep = level ? `, command: [--enable-sleep-mode], sleep: { kind: vllm, level: ${level}, memory: 2g }` : '';
  const lines = [
    'listen: 127.0.0.1:0',
    ...(settings.policy ? [`swap: { policy: ${settings.policy} }`] : []),
    'queue: { maxWait: 10m }',
    'engine: { sleepMemory: 8g }',
    'models:',
    ...MODELS.map((id) => `  ${id}: { image: fake-model:latest, gpus: all, ttl: 0, env: ${env}${sleep} }`),
  ];
  return lines.join('\n') + '\n';
}

// The HTTP observers are process-wide (undici's Client prototype, the global dispatcher): they
// write into the current run's arrays.
const current = { controlCalls: [] as HttpCall[], probes: [] as HttpCall[], ports: new Map<number, string>() };
let observing = false;

export async function runMode(settings: Settings, mode: Mode): Promise<ModeRun> {
  if (!observing) {
    observeHttp({ controlCalls: current.controlCalls, probes: current.probes, modelOfPort: () => current.ports });
    observing = true;
  }
  current.controlCalls.length = 0;
  current.probes.length = 0;
  const config = parseConfigText(configYaml(settings, mode), 'bench:swap config', {});
  const logEvents: LogEvent[] = [];
  const runtime = new ObservedRuntime({ gpuSupport: true });
  current.ports = runtime.modelOfPort;
  const events = new SchedulerEvents();
  const transitions: (ModelStateEvent & { seenAt: number })[] = [];
  const swaps: { to: string; from: string[]; seenAt: number }[] = [];
  events.on('model', (e) => transitions.push({ ...e, seenAt: now() }));
  events.on('swap', (e) => swaps.push({ to: e.to, from: e.from, seenAt: now() }));
  // No nvidia-smi: GPU models are exclusive (one pseudo device), as in the app tests.
  const running = await startServer({ config, log: captureLogger(logEvents), runtime, events, inventory: { read: async () => undefined } });
  const { scheduler } = running;

  // acquire() is what the proxy calls for each request; its grant is when the request is forwarded.
  const grants: Grant[] = [];
  const acquire = scheduler.acquire.bind(scheduler);
  scheduler.acquire = (modelId, cancel) => {
    const grant: Grant = { model: modelId, acquiredAt: now() };
    grants.push(grant);
    const lease = acquire(modelId, cancel);
    if (!(lease instanceof Promise)) {
      grant.grantedAt = now();
      return lease;
    }
    return lease.then((l: Lease) => ((grant.grantedAt = now()), l));
  };

  const agent = new Agent({ keepAliveTimeout: 60_000 });
  const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
  const requests: RequestRecord[] = [];
  const ask = async (model: string, kind: RequestRecord['kind']) => {
    const sentAt = now();
    const res = await request(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(model),
      dispatcher: agent,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const text = await res.body.text();
    const record: RequestRecord = { model, kind, sentAt, doneAt: now(), status: res.statusCode };
    if (res.statusCode !== 200) record.error = text.slice(0, 300);
    requests.push(record);
    if (res.statusCode !== 200) throw new Error(`${mode}: ${kind} request to '${model}' failed: ${res.statusCode} ${text.slice(0, 300)}`);
  };

  try {
    for (const model of MODELS) {
      await ask(model, 'first');
      for (let i = 0; i < settings.warm; i++) await ask(model, 'warm');
    }
    for (let i = 0; i < settings.switches; i++) await ask(MODELS[i % 2]!, 'switch');
  } finally {
    await running.shutdown();
    await agent.close();
  }
  return {
    mode,
    requests,
    grants,
    swaps,
    transitions,
    logEvents,
    engineCalls: runtime.engineCalls,
    boots: runtime.boots,
    controlCalls: [...current.controlCalls],
    probes: [...current.probes],
  };
}
