// Swap thrash: `npm run bench:thrash` (about 1.5 min with the defaults).
//
// Two or three GPU models share one exclusive GPU (no `gpus:` inventory, every model `gpus: all`),
// each backed by the tests' fake-model server with a fixed load time (FAKE_READY_DELAY_MS). Closed-
// loop clients (each always asks the same model and sends its next request as soon as the answer
// is read; each request takes --service-ms on the backend via `fake_delay_ms`) hammer all models
// at once. The same load runs under `swap.policy: fifo` and `grouped`, and the table compares
// requests completed, swaps (scheduler.swapCount), latency and throughput.
//
// The product is measured whole: swapdock runs in this process through startServer (the real HTTP
// server and proxy), around a FakeRuntime subclass that times every engine call. Observation only:
//   - engine calls: ensureImage/create/start/stop/remove are timed by the FakeRuntime subclass;
//   - backend ready: a poller GETs the fake model's /health every 1 ms from the moment
//     runtime.start() returns until it first answers 200 (the scheduler's own readiness probe
//     backs off from 10 ms to 500 ms; the poller is what the backend could have offered);
//   - scheduler decisions: "Draining", "Swapping", "Model ready" log lines, timestamped by a pino
//     logger of ours (same clock as everything else here);
//   - lease grants: scheduler.acquire is wrapped on the instance to time when each request leaves
//     the queue (= is forwarded to the backend).
// Results: a table on stdout and .bench/swap-thrash.json.
//
// Options: --seconds N (per run, default 20), --models 2,3 (model counts to run, each under both
// policies), --clients N (per model, default 4), --load-ms N (default 1000), --service-ms N
// (default 50), --swap-max-wait DURATION (default 5s; 5000ms, 5s or seconds), --policies fifo,grouped.
//
// Modules: bench/thrash/run.ts (one run), observe.ts (timed runtime, log capture), analyse.ts,
// report.ts (table and checks), types.ts, helpers.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../src/config/duration.js';
import { round1, say } from './thrash/helpers.js';
import { report } from './thrash/report.js';
import { runOne } from './thrash/run.js';
import type { Policy, RunResult, ThrashSettings } from './thrash/types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = path.join(ROOT, '.bench');
const RESULT_FILE = path.join(OUT_DIR, 'swap-thrash.json');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    models: { type: 'string', default: '2,3' },
    clients: { type: 'string', default: '4' },
    'load-ms': { type: 'string', default: '1000' },
    'service-ms': { type: 'string', default: '50' },
    'swap-max-wait': { type: 'string', default: '5s' },
    policies: { type: 'string', default: 'fifo,grouped' },
  },
});

const positiveInt = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got '${text}'`);
  return n;
};
const SECONDS = Number(args.seconds);
if (!(SECONDS > 0)) throw new Error(`--seconds must be positive, got '${args.seconds}'`);
const MODEL_COUNTS = args.models!.split(',').map((m) => positiveInt('models', m.trim()));
if (MODEL_COUNTS.some((n) => n < 2)) throw new Error('--models: at least 2 models are needed for swaps');
const CLIENTS = positiveInt('clients', args.clients!);
const LOAD_MS = positiveInt('load-ms', args['load-ms']!);
const SERVICE_MS = positiveInt('service-ms', args['service-ms']!);
const SWAP_MAX_WAIT_MS: number = (() => {
  const text = args['swap-max-wait']!;
  const ms = parseDurationMs(/^\d+$/.test(text) ? `${text}ms` : text); // a bare number means ms here
  if (ms === undefined) throw new Error(`--swap-max-wait: '${text}' is not a duration (write 5s or 5000ms)`);
  return ms;
})();
const POLICIES = args.policies!.split(',').map((p) => p.trim()) as Policy[];
if (POLICIES.some((p) => p !== 'fifo' && p !== 'grouped')) throw new Error('--policies: fifo and/or grouped');

const settings: ThrashSettings = {
  seconds: SECONDS,
  modelCounts: MODEL_COUNTS,
  clients: CLIENTS,
  loadMs: LOAD_MS,
  serviceMs: SERVICE_MS,
  swapMaxWaitMs: SWAP_MAX_WAIT_MS,
  policies: POLICIES,
};

// --- main ---------------------------------------------------------------------------------------

const loadBefore = os.loadavg()[0]!;
if (loadBefore > os.availableParallelism() / 2) {
  say(`warning: load average ${loadBefore.toFixed(1)} on ${os.availableParallelism()} CPU(s); other work will distort the timings`);
}
const results: RunResult[] = [];
for (const n of MODEL_COUNTS) {
  for (const policy of POLICIES) results.push(await runOne(settings, policy, n));
}
const checks = report(settings, results);
mkdirSync(OUT_DIR, { recursive: true });
const json = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.availableParallelism(),
  loadAverage: { before: loadBefore, after: os.loadavg()[0] },
  settings: { seconds: SECONDS, models: MODEL_COUNTS, clientsPerModel: CLIENTS, loadMs: LOAD_MS, serviceMs: SERVICE_MS, swapMaxWaitMs: SWAP_MAX_WAIT_MS, policies: POLICIES },
  checks,
  results: results.map((r) => ({
    ...r,
    swapDetails: r.swapDetails.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? round1(v) : v]))),
    loadDetails: r.loadDetails.map((l) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, typeof v === 'number' ? round1(v) : v]))),
  })),
};
writeFileSync(RESULT_FILE, JSON.stringify(json, null, 2) + '\n');
process.stdout.write(`Results written to ${path.relative(process.cwd(), RESULT_FILE)}\n`);
process.exit(checks.every((c) => c.pass) ? 0 : 1);
