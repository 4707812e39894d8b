// What swapdock adds on top of talking to the backend directly: `npm run bench` (about 5 min;
// with --before about 8). Issue 11's targets are printed with PASS/FAIL for the current version.
//
// One run measures every side, alternating direct and proxied rounds so the machine's drift
// cancels out (a Node proxy needs seconds of load before its JIT settles):
//   - latency p50/p99 at 1 connection (wrk --latency, non-streaming chat completion, small body),
//   - requests/s at 16 and 64 connections, and the proxy's CPU time per request,
//   - streaming: time to first byte, and each chunk's delivery delay (client arrival time minus
//     the backend's write time, both CLOCK_MONOTONIC) for 50 chunks 10 ms apart,
//   - latency and streaming again with the cores kept awake (keepCoresAwake): on a VM this
//     separates the cost of waking halted vCPUs from the proxy's own work,
//   - GET /v1/models with 500 configured models (~1,500 entries with aliases): p50/p99 at 1 conn,
//   - idle RSS of `node bin/swapdock.js serve` (built dist/) on the real engine with 3 and 500
//     models (none started; skipped with a message when no engine answers).
// Everything production has is on: every request sends the admin API key (Authorization: Bearer),
// an /api/events subscriber stays connected (as with the web UI open), metrics are built, and
// swapdock logs a JSON line per request.
// Processes: swapdock runs in its own process (bench/serve-fake.ts compiled to JavaScript as
// dist/ is, not through tsx: overhead/compiled-driver.ts; production logging), its
// model is the tests' fake-model server (bench/fake-backend.mjs), started by a FakeRuntime. On 2+
// cores, wrk, this process and the backend share core 0 and swapdock gets core 1 (taskset).
// Results: a table on stdout and .bench/proxy-overhead.json.
//
// Options:
//   --before REF   also measure the version at REF (e.g. --before d8a6659) in the same run: a git
//                  worktree of REF in .bench/before (reused while at that commit; node_modules
//                  linked from this checkout; its dist/ built once), running this checkout's
//                  bench/serve-fake.ts and bench/bench-config.ts (copied into it) against REF's
//                  src/, with this checkout's backend. Rounds alternate direct / before / after,
//                  each swapdock on the proxy core in turn; the table gets both columns.
//   --quick        short rounds, for trying changes (not for reporting).
//   --cpu-prof     writes a V8 CPU profile of the current ("after") swapdock into .bench/.
//   --serve SCRIPT another proxy to compare instead of the current swapdock, started like
//                  bench/serve-fake.ts and printing the same ready line on stderr (the models and
//                  RSS sections always run bench/serve-fake.ts and bin/swapdock.js).
//   --serve-args='ARGS'  passed to it, e.g. --serve-args='--log-level warn' (what logging costs).
//   --no-awake     skip the cores-kept-awake section;  --no-models  skip GET /v1/models;
//   --no-rss       skip idle RSS (and the dist/ builds it needs).
//
// Modules: bench/overhead/plan.ts (rounds, paths, modes, targets), compiled-driver.ts, cores.ts (pinning, CPU time,
// cores kept awake), before-tree.ts (the --before worktree, dist builds), swapdock-process.ts
// (start/stop, /api/events), wrk.ts, stream.ts, model-list.ts, idle-rss.ts, report.ts.
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compileDriver } from './overhead/compiled-driver.js';
import { buildDist, prepareBeforeTree, resolveCommit, type SourceTree } from './overhead/before-tree.js';
import { CLIENT_CPU, cpuTimeMs, hasCommand, keepCoresAwake, PIN, pinPid, PROXY_CPU } from './overhead/cores.js';
import { measureIdleRss } from './overhead/idle-rss.js';
import { label, measureModelList } from './overhead/model-list.js';
import { modesFor, orderOf, OUT_DIR, planFor, ROOT, STREAM, THROUGHPUT_CONNECTIONS, type BenchOptions, type Mode, type ProxyMode } from './overhead/plan.js';
import { report, type Measurements } from './overhead/report.js';
import { streamOnce, type StreamSample } from './overhead/stream.js';
import { authHeaders, startSwapdock, stopSwapdock, subscribeEvents } from './overhead/swapdock-process.js';
import { chatTarget, runWrk, writeLuaScript, type WrkResult } from './overhead/wrk.js';

const DEFAULT_SERVE = 'bench/serve-fake.ts';
const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    serve: { type: 'string', default: DEFAULT_SERVE },
    'serve-args': { type: 'string', default: '' },
    'no-awake': { type: 'boolean', default: false },
    'no-models': { type: 'boolean', default: false },
    'no-rss': { type: 'boolean', default: false },
  },
});
const QUICK = args.quick!;
const PLAN = planFor(QUICK);
const AWAKE = PIN && !args['no-awake'] && hasCommand('chrt');
const BEFORE = args.before === undefined ? undefined : { ref: args.before, commit: resolveCommit(args.before) };
const OPTIONS: BenchOptions = { quick: QUICK, plan: PLAN, cpuProf: args['cpu-prof']!, serve: args.serve!, serveArgs: args['serve-args']!, before: BEFORE };
const MODES = modesFor(BEFORE !== undefined);
const PROXY_MODES = MODES.filter((m): m is ProxyMode => m !== 'direct');
/** The current backend, given to both versions so that they proxy the very same server. */
const BACKEND = path.join(ROOT, 'bench', 'fake-backend.mjs');

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const perMode = <T>(f: () => T): Record<Mode, T> => ({ direct: f(), before: f(), proxied: f() });

async function main(): Promise<void> {
  if (!hasCommand('wrk')) throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
  mkdirSync(OUT_DIR, { recursive: true });
  // Both versions run compiled, as `node bin/swapdock.js` runs them (compiled-driver.ts).
  const trees: Partial<Record<ProxyMode, SourceTree>> = { proxied: compileDriver({ dir: ROOT, serve: 'bench/serve-fake.ts' }, log) };
  if (BEFORE) trees.before = compileDriver(prepareBeforeTree(BEFORE.commit, log), log);
  // Builds first, on both cores, before anything is measured.
  if (!args['no-rss']) for (const mode of PROXY_MODES) buildDist(trees[mode]!, log);
  if (PIN) pinPid(process.pid, CLIENT_CPU);
  else log('fewer than 2 cores or no taskset: running unpinned, figures will be noisier');

  const started: Partial<Record<ProxyMode, Awaited<ReturnType<typeof startSwapdock>>>> = {};
  const events: Partial<Record<ProxyMode, { close(): void; bytes(): number }>> = {};
  try {
    for (const mode of PROXY_MODES) {
      log(`starting swapdock (${label(mode)}) with a fake model…`);
      const tree = mode === 'before' ? trees.before! : OPTIONS.serve === DEFAULT_SERVE ? trees.proxied! : { dir: ROOT, serve: OPTIONS.serve };
      const serveArgs = mode === 'proxied' ? OPTIONS.serveArgs : '';
      const s = await startSwapdock({ tree, args: `--backend ${BACKEND} ${serveArgs}`, cpuProf: mode === 'proxied' && OPTIONS.cpuProf, label: label(mode) });
      started[mode] = s;
      log(`swapdock (${label(mode)}) ${s.ready.url} (pid ${s.ready.proxyPid}, core ${PIN ? PROXY_CPU : '-'}) → backend ${s.ready.backendUrl} (pid ${s.ready.backendPid}, core ${PIN ? CLIENT_CPU : '-'})`);
      try {
        events[mode] = await subscribeEvents(s.ready, label(mode));
      } catch (err) {
        log(`no /api/events subscriber for swapdock (${label(mode)}): ${(err as Error).message}`);
      }
    }
    const ready = started.proxied!.ready;
    // Direct runs talk to the current version's backend; every client sends the key.
    const urls: Record<Mode, string> = { direct: ready.backendUrl, before: started.before?.ready.url ?? '', proxied: ready.url };
    const headers = authHeaders(ready);
    const target = (mode: Mode) => chatTarget(urls[mode], headers);
    writeLuaScript(ready.model);

    log(`warm-up: ${PLAN.warmupRounds} × ${PLAN.warmupSeconds} s per mode at 64 connections`);
    for (let r = 0; r < PLAN.warmupRounds; r++) {
      for (const mode of orderOf(MODES, r)) await runWrk(target(mode), 64, PLAN.warmupSeconds);
    }

    // Each swapdock's CPU time (user + system, all its threads) per request of its rounds.
    const proxyCpuUsPerRequest: Record<ProxyMode, Record<number, number[]>> = { before: {}, proxied: {} };
    const measure = async (mode: Mode, connections: number, seconds: number): Promise<WrkResult> => {
      if (mode === 'direct') return runWrk(target(mode), connections, seconds);
      const pid = started[mode]!.ready.proxyPid;
      const cpuBefore = cpuTimeMs(pid);
      const result = await runWrk(target(mode), connections, seconds);
      (proxyCpuUsPerRequest[mode][connections] ??= []).push(((cpuTimeMs(pid) - cpuBefore) * 1000) / result.requests);
      return result;
    };
    const latencyRounds = async (rounds: number, seconds: number, cpu: boolean) => {
      const latency = perMode<WrkResult[]>(() => []);
      for (let r = 0; r < rounds; r++) {
        for (const mode of orderOf(MODES, r)) latency[mode].push(cpu ? await measure(mode, 1, seconds) : await runWrk(target(mode), 1, seconds));
      }
      return latency;
    };
    const agents = perMode(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    const streamRounds = async (rounds: number) => {
      const streams = perMode<StreamSample[]>(() => []);
      for (let r = 0; r < STREAM.warmupStreams; r++) {
        for (const mode of MODES) await streamOnce(urls[mode], agents[mode], ready.model, headers);
      }
      for (let r = 0; r < rounds; r++) {
        for (const mode of orderOf(MODES, r)) streams[mode].push(await streamOnce(urls[mode], agents[mode], ready.model, headers));
      }
      return streams;
    };

    log(`latency: ${PLAN.latencyRounds} rounds × ${PLAN.latencySeconds} s per mode at 1 connection`);
    const latency = await latencyRounds(PLAN.latencyRounds, PLAN.latencySeconds, true);

    const throughput: Record<number, Record<Mode, WrkResult[]>> = {};
    for (const connections of THROUGHPUT_CONNECTIONS) {
      const rounds = (throughput[connections] = perMode<WrkResult[]>(() => []));
      log(`throughput: ${PLAN.throughputRounds} rounds × ${PLAN.throughputSeconds} s per mode at ${connections} connections`);
      for (let r = 0; r < PLAN.throughputRounds; r++) {
        for (const mode of orderOf(MODES, r)) rounds[mode].push(await measure(mode, connections, PLAN.throughputSeconds));
      }
    }

    log(`streaming: ${PLAN.streamRounds} streams per mode of ${STREAM.chunks} chunks ${STREAM.intervalMs} ms apart`);
    const streams = await streamRounds(PLAN.streamRounds);

    let awake: Measurements['awake'];
    if (AWAKE) {
      log(`cores kept awake: ${PLAN.awakeLatencyRounds} latency rounds × ${PLAN.latencySeconds} s and ${PLAN.awakeStreamRounds} streams per mode`);
      const stop = keepCoresAwake();
      try {
        awake = { latency: await latencyRounds(PLAN.awakeLatencyRounds, PLAN.latencySeconds, false), streams: await streamRounds(PLAN.awakeStreamRounds) };
      } finally {
        stop();
      }
    }
    for (const agent of Object.values(agents)) agent.destroy();
    const eventBytes = Object.fromEntries(PROXY_MODES.map((m) => [m, events[m]?.bytes() ?? 0]));
    for (const mode of PROXY_MODES) {
      events[mode]?.close();
      await stopSwapdock(started[mode]!.child);
      delete started[mode];
    }

    // A section that fails (e.g. a version that does not start with 500 models) is reported as
    // such; the figures measured so far are still printed.
    const failures: string[] = [];
    const section = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
        log(`${name} failed: ${(err as Error).message}`);
        return undefined;
      }
    };
    const modelList = args['no-models'] ? undefined : await section('GET /v1/models', () => measureModelList(trees, BACKEND, PLAN, log));
    const rss = args['no-rss'] ? undefined : await section('idle RSS', () => measureIdleRss(trees, PLAN, log));
    if (rss && !rss.available) log(`idle RSS skipped: ${rss.reason}`);

    report(ready, { modes: MODES, latency, throughput, proxyCpuUsPerRequest, streams, awake, modelList, rss, eventBytes, failures }, OPTIONS);
  } finally {
    for (const mode of PROXY_MODES) {
      events[mode]?.close();
      if (started[mode]) await stopSwapdock(started[mode]!.child);
    }
  }
}

await main();
