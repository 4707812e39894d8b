// What swapdock adds on top of talking to the backend directly: `npm run bench` (under 3 min).
//
// One run measures both sides, alternating direct and proxied rounds so the machine's drift
// cancels out (a Node proxy needs seconds of load before its JIT settles):
//   - latency p50/p99 at 1 connection (wrk --latency, non-streaming chat completion, small body),
//   - requests/s at 16 and 64 connections, and the proxy's CPU time per request,
//   - streaming: time to first byte, and each chunk's delivery delay (client arrival time minus
//     the backend's write time, both CLOCK_MONOTONIC) for 50 chunks 10 ms apart,
//   - latency and streaming again with the cores kept awake (keepCoresAwake): on a VM this
//     separates the cost of waking halted vCPUs from the proxy's own work.
// Processes: swapdock runs in its own process (bench/serve-fake.ts, production logging), its
// model is the tests' fake-model server (bench/fake-backend.mjs), started by a FakeRuntime. On 2+
// cores, wrk, this process and the backend share core 0 and swapdock gets core 1 (taskset).
// Results: a table on stdout and .bench/proxy-overhead.json.
//
// Options: --quick (short rounds, for trying changes; not for reporting), --cpu-prof (writes a
// V8 CPU profile of the swapdock process into .bench/), --serve SCRIPT (another proxy to
// compare, started like bench/serve-fake.ts and printing the same ready line on stderr),
// --serve-args='ARGS' (passed to it, e.g. --serve-args='--log-level warn' to see what logging costs),
// --no-awake (skip the cores-kept-awake section).
//
// Modules: bench/overhead/plan.ts (rounds, paths), cores.ts (pinning, CPU time, cores kept awake),
// swapdock-process.ts, wrk.ts, stream.ts, report.ts (table, targets, JSON).
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { CLIENT_CPU, cpuTimeMs, hasCommand, keepCoresAwake, PIN, pinPid, PROXY_CPU } from './overhead/cores.js';
import { MODES, OUT_DIR, planFor, STREAM, THROUGHPUT_CONNECTIONS, type BenchOptions, type Mode } from './overhead/plan.js';
import { report, type Measurements } from './overhead/report.js';
import { streamOnce, type StreamSample } from './overhead/stream.js';
import { startSwapdock, stopSwapdock } from './overhead/swapdock-process.js';
import { runWrk, writeLuaScript, type WrkResult } from './overhead/wrk.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    serve: { type: 'string', default: 'bench/serve-fake.ts' },
    'serve-args': { type: 'string', default: '' },
    'no-awake': { type: 'boolean', default: false },
  },
});
const QUICK = args.quick!;

const PLAN = planFor(QUICK);
const AWAKE = PIN && !args['no-awake'] && hasCommand('chrt');
const OPTIONS: BenchOptions = { quick: QUICK, plan: PLAN, cpuProf: args['cpu-prof']!, serve: args.serve!, serveArgs: args['serve-args']! };

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// --- the run ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!hasCommand('wrk')) throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
  mkdirSync(OUT_DIR, { recursive: true });
  if (PIN) pinPid(process.pid, CLIENT_CPU);
  else log('fewer than 2 cores or no taskset: running unpinned, figures will be noisier');

  log('starting swapdock with a fake model…');
  const { child, ready } = await startSwapdock(OPTIONS);
  const urls: Record<Mode, string> = { direct: ready.backendUrl, proxied: ready.url };
  log(`swapdock ${ready.url} (pid ${ready.proxyPid}, core ${PIN ? PROXY_CPU : '-'}) → backend ${ready.backendUrl} (pid ${ready.backendPid}, core ${PIN ? CLIENT_CPU : '-'})`);
  writeLuaScript(ready.model);

  try {
    // Alternate which mode goes first in each round, so neither always runs on a warmer machine.
    const orderOf = (round: number): readonly Mode[] => (round % 2 === 0 ? MODES : [...MODES].reverse());

    log(`warm-up: ${PLAN.warmupRounds} × ${PLAN.warmupSeconds} s per mode at 64 connections`);
    for (let r = 0; r < PLAN.warmupRounds; r++) {
      for (const mode of orderOf(r)) await runWrk(urls[mode], 64, PLAN.warmupSeconds);
    }

    // The proxy's CPU time (user + system, all its threads) per request of each proxied round.
    const proxyCpuUsPerRequest: Record<number, number[]> = {};
    const measure = async (mode: Mode, connections: number, seconds: number): Promise<WrkResult> => {
      const cpuBefore = cpuTimeMs(ready.proxyPid);
      const result = await runWrk(urls[mode], connections, seconds);
      if (mode === 'proxied') (proxyCpuUsPerRequest[connections] ??= []).push(((cpuTimeMs(ready.proxyPid) - cpuBefore) * 1000) / result.requests);
      return result;
    };
    const latencyRounds = async (rounds: number, seconds: number, cpu: boolean) => {
      const latency: Record<Mode, WrkResult[]> = { direct: [], proxied: [] };
      for (let r = 0; r < rounds; r++) {
        for (const mode of orderOf(r)) latency[mode].push(cpu ? await measure(mode, 1, seconds) : await runWrk(urls[mode], 1, seconds));
      }
      return latency;
    };
    const agents: Record<Mode, Agent> = { direct: new Agent({ keepAlive: true, maxSockets: 1 }), proxied: new Agent({ keepAlive: true, maxSockets: 1 }) };
    const streamRounds = async (rounds: number) => {
      const streams: Record<Mode, StreamSample[]> = { direct: [], proxied: [] };
      for (let r = 0; r < STREAM.warmupStreams; r++) {
        for (const mode of MODES) await streamOnce(urls[mode], agents[mode], ready.model);
      }
      for (let r = 0; r < rounds; r++) {
        for (const mode of orderOf(r)) streams[mode].push(await streamOnce(urls[mode], agents[mode], ready.model));
      }
      return streams;
    };

    log(`latency: ${PLAN.latencyRounds} rounds × ${PLAN.latencySeconds} s per mode at 1 connection`);
    const latency = await latencyRounds(PLAN.latencyRounds, PLAN.latencySeconds, true);

    const throughput: Record<number, Record<Mode, WrkResult[]>> = {};
    for (const connections of THROUGHPUT_CONNECTIONS) {
      throughput[connections] = { direct: [], proxied: [] };
      log(`throughput: ${PLAN.throughputRounds} rounds × ${PLAN.throughputSeconds} s per mode at ${connections} connections`);
      for (let r = 0; r < PLAN.throughputRounds; r++) {
        for (const mode of orderOf(r)) throughput[connections]![mode].push(await measure(mode, connections, PLAN.throughputSeconds));
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

    report(ready, { latency, throughput, proxyCpuUsPerRequest, streams, awake }, OPTIONS);
  } finally {
    await stopSwapdock(child);
  }
}

await main();
