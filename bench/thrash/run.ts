// One thrash run: swapdock in-process under one policy, closed-loop clients, every lease timed.
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import { startServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { Lease } from '../../src/scheduler/scheduler.js';
import { analyse } from './analyse.js';
import { now, say, sleep } from './helpers.js';
import { captureLogger, TimedRuntime, type LogEvent } from './observe.js';
import type { GrantRecord, Policy, RequestRecord, RunResult, ThrashSettings } from './types.js';

function configYaml(settings: ThrashSettings, policy: Policy, models: string[]): string {
  const lines = [
    'listen: 127.0.0.1:0',
    `swap: { policy: ${policy}, maxWait: ${settings.swapMaxWaitMs}ms }`,
    'queue: { maxWait: 10m }',
    'models:',
  ];
  for (const id of models) {
    lines.push(`  ${id}: { image: fake-model:latest, gpus: all, ttl: 0, stopTimeout: 5s, maxQueue: 1000, env: { FAKE_READY_DELAY_MS: ${settings.loadMs}, FAKE_MODEL_NAME: ${id} } }`);
  }
  return lines.join('\n') + '\n';
}

export async function runOne(settings: ThrashSettings, policy: Policy, modelCount: number): Promise<RunResult> {
  const models = Array.from({ length: modelCount }, (_, i) => `m${i + 1}`);
  const config = parseConfigText(configYaml(settings, policy, models), 'bench config', {});
  const events: LogEvent[] = [];
  const log = captureLogger(events);
  const runtime = new TimedRuntime({ gpuSupport: true });
  const running = await startServer({ config, log, runtime, inventory: { read: async () => undefined } });
  const { scheduler } = running;

  // Time each lease: acquire() is what the proxy calls; the grant is when the request is forwarded.
  const grants: GrantRecord[] = [];
  const acquire = scheduler.acquire.bind(scheduler);
  scheduler.acquire = (modelId: string, signal?: AbortSignal) => {
    const record: GrantRecord = { model: modelId, acquiredAt: now() };
    grants.push(record);
    let lease: Lease | Promise<Lease>;
    try {
      lease = acquire(modelId, signal);
    } catch (err) {
      record.failed = true;
      throw err;
    }
    if (lease instanceof Promise) {
      return lease.then(
        (l) => ((record.grantedAt = now()), l),
        (err: unknown) => {
          record.failed = true;
          throw err;
        },
      );
    }
    record.grantedAt = now();
    return lease;
  };

  const agent = new Agent({ keepAliveTimeout: 60_000, connections: null });
  const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, fake_delay_ms: settings.serviceMs });
  const ask = async (model: string, signal?: AbortSignal) => {
    const res = await request(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(model),
      dispatcher: agent,
      signal,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };

  // Warm-up: m1 is loaded before the clock starts, so every run begins from the same state.
  const warm = await ask(models[0]!);
  if (warm.status !== 200) throw new Error(`warm-up request failed: ${warm.status} ${warm.text}`);
  const swapsBefore = scheduler.swapCount;

  const records: RequestRecord[] = [];
  const startAt = now();
  const endAt = startAt + settings.seconds * 1000;
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one signal shared by every client's requests
  const client = async (model: string, index: number) => {
    while (now() < endAt && !abort.signal.aborted) {
      const sentAt = now();
      try {
        const { status, text } = await ask(model, abort.signal);
        records.push({ model, client: index, sentAt, doneAt: now(), status, error: status === 200 ? undefined : text.slice(0, 200) });
      } catch (err) {
        if (abort.signal.aborted) return;
        records.push({ model, client: index, sentAt, doneAt: now(), status: 0, error: (err as Error).message });
        await sleep(10);
      }
    }
  };
  const clients = models.flatMap((model) => Array.from({ length: settings.clients }, (_, i) => client(model, i)));
  say(`${policy}, ${modelCount} models × ${settings.clients} clients: running ${settings.seconds} s…`);
  await sleep(endAt - now());
  const swapsInWindow = scheduler.swapCount - swapsBefore;
  // No new requests after the end; those still waiting may finish (their latency counts), bounded.
  const graceMs = settings.swapMaxWaitMs * (modelCount - 1) + (settings.loadMs + 1000) * modelCount + 5000;
  const grace = setTimeout(() => abort.abort(new Error('bench over')), graceMs);
  await Promise.allSettled(clients);
  clearTimeout(grace);
  const finishedAt = now();
  const abandonedAtEnd = abort.signal.aborted ? grants.filter((g) => g.grantedAt === undefined && !g.failed && g.acquiredAt >= startAt).length : 0;
  const swapsInGrace = scheduler.swapCount - swapsBefore - swapsInWindow;
  await running.shutdown();
  await runtime.closePollers();
  await agent.close();
  say(`${policy}, ${modelCount} models: done (${records.length} requests, ${swapsInWindow} swaps + ${swapsInGrace} while the last requests finished, in ${((finishedAt - endAt) / 1000).toFixed(1)} s)`);

  return analyse(settings, { policy, models, records, grants, events, runtime, startAt, endAt, swaps: swapsInWindow, swapsInGrace, abandonedAtEnd });
}
