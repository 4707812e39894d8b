// Swap with sleeping models: `npm run bench:swap` (about 3 min; `-- --quick`: 5 switches per mode, ~1 min).
//
// What a switch between two GPU models costs when the one switched to sleeps (vLLM sleep mode,
// level 1 or 2) instead of being stopped and cold-started. Two models, a and b, on one exclusive
// GPU (no GPU inventory: every GPU model needs the whole pseudo device), each the tests' fake
// model on a FakeRuntime. Three modes, one after the other, each with a fresh swapdock:
//   cold      no `sleep`: every switch stops one model and cold-starts the other (cold load =
//             FAKE_LISTEN_DELAY_MS, 5 s: the port opens after it, as vLLM's after loading);
//   sleep-l1  sleep: { kind: vllm, level: 1 }: the evicted model sleeps, the target wakes
//             (FAKE_SLEEP_DELAY_MS 50 ms, FAKE_WAKE_DELAY_MS 300 ms);
//   sleep-l2  level 2: a wake is /wake_up?tags=weights (300 ms) + reload_weights
//             (FAKE_RELOAD_DELAY_MS 300 ms) + /wake_up?tags=kv_cache (300 ms).
// Each mode: a's first load and --warm warm requests, b's first load (a is evicted) and warm
// requests, then --switches requests alternating a, b, a… one at a time, each a switch. Only those
// switches are measured: the first, cold loads are excluded in every mode.
//   swap time = the switch request's latency - the median warm latency of that model;
//   backend share = the fake model's configured delays actually waited for (the evicted model's
//     /sleep call, the target's wake/reload calls, or its cold load), engine share = FakeRuntime
//     calls, swapdock share = swap - backend - engine, taken apart into segments (analyse.ts).
// Check: level-1 swap p50 ≤ the measured wake + the evicted model's measured sleep + 50 ms (the sleep
// must end before the wake may take its GPU memory); with --sleep-ms 0 that is wake + 50 ms.
// Results: a table on stdout and .bench/swap-sleep.json (every switch with its segments).
//
// Options: --quick (5 switches), --switches N (default 20), --warm N (default 5), --modes
// cold,sleep-l1,sleep-l2, --policy grouped|fifo (default: swapdock's default, grouped),
// --cold-ms, --sleep-ms, --wake-ms, --reload-ms (the fake model's delays).
// Modules: bench/swap-sleep/run.ts (one mode), observe.ts (what is timed and how), analyse.ts,
// report.ts, types.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { round1 } from './thrash/helpers.js';
import { analyse } from './swap-sleep/analyse.js';
import { report } from './swap-sleep/report.js';
import { runMode } from './swap-sleep/run.js';
import type { Mode, ModeResult, Settings } from './swap-sleep/types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULT_FILE = path.join(ROOT, '.bench', 'swap-sleep.json');
const say = (msg: string) => process.stderr.write(`[bench:swap] ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    switches: { type: 'string' },
    warm: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'cold,sleep-l1,sleep-l2' },
    policy: { type: 'string' },
    'cold-ms': { type: 'string', default: '5000' },
    'sleep-ms': { type: 'string', default: '50' },
    'wake-ms': { type: 'string', default: '300' },
    'reload-ms': { type: 'string', default: '300' },
  },
});
const whole = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got '${text}'`);
  return n;
};
const modes = args.modes!.split(',').map((m) => m.trim()) as Mode[];
if (modes.some((m) => !['cold', 'sleep-l1', 'sleep-l2'].includes(m))) throw new Error('--modes: cold, sleep-l1, sleep-l2');
if (args.policy !== undefined && args.policy !== 'grouped' && args.policy !== 'fifo') throw new Error('--policy: grouped or fifo');
const settings: Settings = {
  switches: whole('switches', args.switches ?? (args.quick ? '5' : '20')),
  warm: Math.max(1, whole('warm', args.warm!)),
  coldMs: whole('cold-ms', args['cold-ms']!),
  sleepMs: whole('sleep-ms', args['sleep-ms']!),
  wakeMs: whole('wake-ms', args['wake-ms']!),
  reloadMs: whole('reload-ms', args['reload-ms']!),
  policy: args.policy as Settings['policy'],
  modes,
};
if (settings.switches < 1) throw new Error('--switches: at least 1');

const loadBefore = os.loadavg()[0]!;
if (loadBefore > os.availableParallelism() / 2) {
  say(`warning: load average ${loadBefore.toFixed(1)} on ${os.availableParallelism()} CPU(s); other work will distort the timings`);
}
const results: ModeResult[] = [];
for (const mode of modes) {
  say(`${mode}: 2 first loads, ${settings.warm} warm requests each, then ${settings.switches} switches…`);
  const startedAt = Date.now();
  const run = await runMode(settings, mode);
  const result = analyse(run);
  results.push(result);
  say(`${mode}: done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (swap p50 ${result.swapMs.p50.toFixed(1)} ms)`);
}
const loadAverage = { before: loadBefore, after: os.loadavg()[0]! };
const { checks, notes } = report(settings, results, loadAverage);

const rounded = (x: unknown): unknown =>
  typeof x === 'number' ? round1(x) : Array.isArray(x) ? x.map(rounded) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, rounded(v)])) : x;
mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
writeFileSync(
  RESULT_FILE,
  JSON.stringify(
    rounded({ date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), loadAverage, settings, checks, notes, results }),
    null,
    2,
  ) + '\n',
);
process.stdout.write(`Results written to ${path.relative(process.cwd(), RESULT_FILE)}\n`);
process.exit(checks.every((c) => c.pass) ? 0 : 1);
