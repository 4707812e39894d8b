// What swapdock adds on top of talking to the backend directly: `npm run bench` (under 3 min).
//
// One run measures both sides, alternating direct and proxied rounds so the machine's drift
// cancels out (shared/docs/performance.md):
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
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ServeFakeReady } from './serve-fake.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = path.join(ROOT, '.bench');
const LUA = path.join(OUT_DIR, 'chat-post.lua');
const RESULT_FILE = path.join(OUT_DIR, 'proxy-overhead.json');

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

const PLAN = QUICK
  ? { warmupRounds: 1, warmupSeconds: 3, latencyRounds: 3, latencySeconds: 3, throughputRounds: 2, throughputSeconds: 2, streamRounds: 4, awakeLatencyRounds: 2, awakeStreamRounds: 3 }
  : { warmupRounds: 2, warmupSeconds: 3, latencyRounds: 5, latencySeconds: 5, throughputRounds: 4, throughputSeconds: 3, streamRounds: 10, awakeLatencyRounds: 3, awakeStreamRounds: 4 };
const THROUGHPUT_CONNECTIONS = [16, 64] as const;
const STREAM = { chunks: 50, intervalMs: 10, warmupStreams: 2 };
const TARGET_ADDED_P50_MS = 0.3;

const CLIENT_CPU = 0;
const PROXY_CPU = 1;
const CPU_COUNT = os.availableParallelism(); // before this process pins itself to one core
const PIN = CPU_COUNT >= 2 && hasCommand('taskset');
const AWAKE = PIN && !args['no-awake'] && hasCommand('chrt');

type Mode = 'direct' | 'proxied';
const MODES: readonly Mode[] = ['direct', 'proxied'];

interface WrkResult {
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
  requests: number;
  errors: number;
}

// ---------------------------------------------------------------------------------------------

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function pinned(command: string, argv: string[], cpu: number): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(cpu), command, ...argv]] : [command, argv];
}

function pinPid(pid: number, cpu: number): void {
  if (PIN) execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** utime + stime of a process, in ms. */
function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/PID/stat (1-based), counted here from field 3.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// --- swapdock child -------------------------------------------------------------------------

async function startSwapdock(): Promise<{ child: ChildProcess; ready: ServeFakeReady }> {
  const nodeArgs = ['--import', 'tsx'];
  if (args['cpu-prof']) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`);
  const [cmd, argv] = pinned(process.execPath, [...nodeArgs, path.resolve(ROOT, args.serve!), ...args['serve-args']!.split(' ').filter(Boolean)], PROXY_CPU);
  // stdout (swapdock's JSON log, one line per request) goes to /dev/null: written, never read.
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  const ready = await new Promise<ServeFakeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('swapdock did not get ready within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`swapdock exited early with code ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as ServeFakeReady);
      } else process.stderr.write(`[swapdock] ${line}\n`);
    });
  });
  // FakeRuntime spawned the backend from the swapdock process, so it inherited swapdock's core.
  pinPid(ready.backendPid, CLIENT_CPU);
  return { child, ready };
}

async function stopSwapdock(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

// --- wrk ------------------------------------------------------------------------------------

function writeLuaScript(model: string): void {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
  writeFileSync(
    LUA,
    [
      '-- written by bench/proxy-overhead.ts',
      'wrk.method = "POST"',
      `wrk.body = '${body}'`,
      'wrk.headers["Content-Type"] = "application/json"',
      '',
    ].join('\n'),
  );
}

function parseDuration(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1000;
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': return n * 60_000;
    default: throw new Error(`unknown wrk time unit '${unit}'`);
  }
}

function runWrk(baseUrl: string, connections: number, seconds: number): Promise<WrkResult> {
  const [cmd, argv] = pinned(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', LUA, `${baseUrl}/v1/chat/completions`],
    CLIENT_CPU,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      const pct = (p: number) => {
        const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        if (!m) throw new Error(`no ${p}% line in wrk output:\n${out}`);
        return parseDuration(m[1]!, m[2]!);
      };
      try {
        const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
        const total = /(\d+) requests in/.exec(out);
        if (!rps || !total) throw new Error(`no request count in wrk output:\n${out}`);
        const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
        const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
        const errors = non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
        resolve({ p50Ms: pct(50), p99Ms: pct(99), requestsPerSec: Number(rps[1]), requests: Number(total[1]), errors });
      } catch (err) {
        reject(err);
      }
    });
  });
}

// --- streaming ------------------------------------------------------------------------------

interface StreamSample {
  ttfbMs: number;
  /** Per chunk: client arrival minus backend write, ms. */
  chunkDelaysMs: number[];
}

function streamOnce(baseUrl: string, agent: Agent, model: string): Promise<StreamSample> {
  const url = new URL(`${baseUrl}/v1/chat/completions`);
  const body = JSON.stringify({
    model, messages: [{ role: 'user', content: 'Count.' }], stream: true,
    fake_chunks: STREAM.chunks, fake_chunk_delay_ms: STREAM.intervalMs,
  });
  return new Promise((resolve, reject) => {
    let started = 0n;
    let ttfbMs = NaN;
    let pending = '';
    const chunkDelaysMs: number[] = [];
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const now = process.hrtime.bigint();
          if (Number.isNaN(ttfbMs)) ttfbMs = Number(now - started) / 1e6;
          pending += text;
          // Stamps of events complete in this read; a split event is finished by the next read.
          let end: number;
          while ((end = pending.indexOf('\n\n')) !== -1) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const stamp = /"bench_sent_ns":"(\d+)"/.exec(event);
            if (stamp) chunkDelaysMs.push(Number(now - BigInt(stamp[1]!)) / 1e6);
          }
        });
        res.on('end', () => {
          if (chunkDelaysMs.length !== STREAM.chunks) reject(new Error(`got ${chunkDelaysMs.length} stamped chunks, expected ${STREAM.chunks}`));
          else resolve({ ttfbMs, chunkDelaysMs });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    started = process.hrtime.bigint();
    req.end(body);
  });
}

// --- cores kept awake ------------------------------------------------------------------------

/**
 * A busy loop at SCHED_IDLE priority on each core: it runs only when nothing else wants the
 * core, so it takes no CPU from the processes measured, but the vCPU never halts. On a VM, waking
 * a halted vCPU costs a VM exit; a proxied request crosses cores four times (client → proxy →
 * backend → proxy → client), a direct one not at all. Measuring with and without these spinners
 * separates the VM's wake-up cost from the proxy's own.
 */
function keepCoresAwake(): () => void {
  const spinners = [CLIENT_CPU, PROXY_CPU].map((cpu) =>
    spawn('taskset', ['-c', String(cpu), 'chrt', '--idle', '0', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }),
  );
  const stop = () => spinners.forEach((s) => s.exitCode === null && s.kill('SIGKILL'));
  process.once('exit', stop);
  return stop;
}

// --- the run ----------------------------------------------------------------------------------

interface Measurements {
  latency: Record<Mode, WrkResult[]>;
  throughput: Record<number, Record<Mode, WrkResult[]>>;
  proxyCpuUsPerRequest: Record<number, number[]>;
  streams: Record<Mode, StreamSample[]>;
  awake?: { latency: Record<Mode, WrkResult[]>; streams: Record<Mode, StreamSample[]> };
}

async function main(): Promise<void> {
  if (!hasCommand('wrk')) throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
  mkdirSync(OUT_DIR, { recursive: true });
  if (PIN) pinPid(process.pid, CLIENT_CPU);
  else log('fewer than 2 cores or no taskset: running unpinned, figures will be noisier');

  log('starting swapdock with a fake model…');
  const { child, ready } = await startSwapdock();
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

    report(ready, { latency, throughput, proxyCpuUsPerRequest, streams, awake });
  } finally {
    await stopSwapdock(child);
  }
}

// --- the report -------------------------------------------------------------------------------

interface Row {
  metric: string;
  unit: string;
  direct: number | null;
  proxied: number | null;
  added: number | null;
  ratio: number | null;
}

function report(ready: ServeFakeReady, run: Measurements): void {
  const row = (metric: string, unit: string, direct: number | null, proxied: number | null): Row => ({
    metric, unit, direct, proxied,
    added: direct !== null && proxied !== null ? proxied - direct : null,
    ratio: direct !== null && proxied !== null ? proxied / direct : null,
  });
  const byMode = <T>(f: (mode: Mode) => T): Record<Mode, T> => ({ direct: f('direct'), proxied: f('proxied') });
  const latencyOf = (latency: Record<Mode, WrkResult[]>) => ({
    p50: byMode((m) => median(latency[m].map((w) => w.p50Ms))),
    p99: byMode((m) => median(latency[m].map((w) => w.p99Ms))),
  });
  const streamsOf = (streams: Record<Mode, StreamSample[]>) => {
    const delays = byMode((m) => streams[m].flatMap((s) => s.chunkDelaysMs));
    return {
      ttfb: byMode((m) => median(streams[m].map((s) => s.ttfbMs))),
      p50: byMode((m) => median(delays[m])),
      p99: byMode((m) => percentile(delays[m], 99)),
      max: byMode((m) => Math.max(...delays[m])),
    };
  };

  const lat = latencyOf(run.latency);
  const str = streamsOf(run.streams);
  const rows: Row[] = [
    row('latency p50, 1 connection', 'ms', lat.p50.direct, lat.p50.proxied),
    row('latency p99, 1 connection', 'ms', lat.p99.direct, lat.p99.proxied),
  ];
  for (const c of THROUGHPUT_CONNECTIONS) {
    const rps = byMode((m) => median(run.throughput[c]![m].map((w) => w.requestsPerSec)));
    rows.push({ ...row(`requests/s, ${c} connections`, 'req/s', rps.direct, rps.proxied), added: null });
  }
  for (const c of [1, ...THROUGHPUT_CONNECTIONS]) {
    const us = median(run.proxyCpuUsPerRequest[c]!);
    rows.push({ metric: `proxy CPU per request, ${c} conn${c === 1 ? '' : 's'}`, unit: 'µs', direct: null, proxied: us, added: us, ratio: null });
  }
  rows.push(
    row('stream: time to first byte', 'ms', str.ttfb.direct, str.ttfb.proxied),
    row('stream: chunk delay, median', 'ms', str.p50.direct, str.p50.proxied),
    row('stream: chunk delay, p99', 'ms', str.p99.direct, str.p99.proxied),
    row('stream: chunk delay, max', 'ms', str.max.direct, str.max.proxied),
  );
  let awake: { lat: ReturnType<typeof latencyOf>; str: ReturnType<typeof streamsOf> } | undefined;
  if (run.awake) {
    awake = { lat: latencyOf(run.awake.latency), str: streamsOf(run.awake.streams) };
    rows.push(
      row('cores kept awake: latency p50, 1 conn', 'ms', awake.lat.p50.direct, awake.lat.p50.proxied),
      row('cores kept awake: latency p99, 1 conn', 'ms', awake.lat.p99.direct, awake.lat.p99.proxied),
      row('cores kept awake: stream TTFB', 'ms', awake.str.ttfb.direct, awake.str.ttfb.proxied),
      row('cores kept awake: delay per chunk, median', 'ms', awake.str.p50.direct, awake.str.p50.proxied),
    );
  }

  const addedP50 = lat.p50.proxied - lat.p50.direct;
  const latencyPass = addedP50 < TARGET_ADDED_P50_MS;
  const awakeAddedP50 = awake ? awake.lat.p50.proxied - awake.lat.p50.direct : undefined;
  // "As they arrive": chunks reach the client before the backend writes the next one (a
  // buffering proxy holds each for at least one interval, or all of them until the end).
  const addedPerChunk = str.p50.proxied - str.p50.direct;
  const streamPass = str.p99.proxied < STREAM.intervalMs && addedPerChunk < 1;

  const fmt = (x: number | null | undefined, unit: string, signed = false) => {
    if (x === null || x === undefined || Number.isNaN(x)) return '—';
    const digits = unit === 'req/s' || unit === 'µs' ? 0 : unit === 'ms' ? 3 : 2;
    const s = x.toFixed(digits);
    return signed && x >= 0 ? `+${s}` : s;
  };
  const table = [
    ['metric', 'unit', 'direct', 'proxied', 'added', 'ratio'],
    ...rows.map((r) => [r.metric, r.unit, fmt(r.direct, r.unit), fmt(r.proxied, r.unit), fmt(r.added, r.unit, true), r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const seconds = process.uptime();

  const out: string[] = [];
  out.push('');
  out.push(`swapdock proxy overhead — Node ${process.version}, ${CPU_COUNT} CPUs (${os.cpus()[0]?.model ?? '?'}), ${PIN ? `wrk+backend on core ${CLIENT_CPU}, swapdock on core ${PROXY_CPU}` : 'unpinned'}${QUICK ? ', QUICK run (not for reporting)' : ''}`);
  out.push(`medians of ${PLAN.latencyRounds} latency rounds × ${PLAN.latencySeconds} s, ${PLAN.throughputRounds} throughput rounds × ${PLAN.throughputSeconds} s, ${PLAN.streamRounds} streams × ${STREAM.chunks} chunks ${STREAM.intervalMs} ms apart per mode; swapdock logs at 'info' (a JSON line per request)`);
  out.push('');
  out.push(line(table[0]!));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const r of table.slice(1)) out.push(line(r));
  out.push('');
  out.push(`target: < ${TARGET_ADDED_P50_MS} ms added at p50 (1 connection) ..... ${fmt(addedP50, 'ms', true)} ms  ${latencyPass ? 'PASS' : 'FAIL'}` +
    (awakeAddedP50 === undefined ? '' : `; with cores kept awake ${fmt(awakeAddedP50, 'ms', true)} ms  ${awakeAddedP50 < TARGET_ADDED_P50_MS ? 'PASS' : 'FAIL'}`));
  out.push(`target: chunks forwarded as they arrive ......... ${fmt(addedPerChunk, 'ms', true)} ms per chunk (median), p99 chunk delay ${fmt(str.p99.proxied, 'ms')} ms < ${STREAM.intervalMs} ms interval  ${streamPass ? 'PASS' : 'FAIL'}`);
  if (awake) out.push('"cores kept awake": a SCHED_IDLE busy loop per core keeps vCPUs from halting; the difference to the rows above is what waking halted vCPUs costs on this machine (4 cross-core hops per proxied request, none direct), not proxy work.');
  const errors = [...Object.values(run.latency), ...Object.values(run.throughput).flatMap((t) => Object.values(t)), ...Object.values(run.awake?.latency ?? {})].flat().reduce((n, w) => n + w.errors, 0);
  if (errors > 0) out.push(`WARNING: wrk saw ${errors} errors or non-2xx responses`);
  out.push(`bench took ${seconds.toFixed(0)} s; results in ${path.relative(ROOT, RESULT_FILE)}`);
  console.log(out.join('\n'));

  const streamSummary = (streams: Record<Mode, StreamSample[]>) =>
    byMode((m) => streams[m].map((s) => ({ ttfbMs: s.ttfbMs, chunkDelayMedianMs: median(s.chunkDelaysMs), chunkDelayMaxMs: Math.max(...s.chunkDelaysMs) })));
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: CPU_COUNT,
        cpuModel: os.cpus()[0]?.model,
        pinned: PIN ? { clientAndBackend: CLIENT_CPU, proxy: PROXY_CPU } : false,
        proxy: { serve: args.serve, args: args['serve-args'], url: ready.url, backendUrl: ready.backendUrl },
        quick: QUICK,
        plan: { ...PLAN, throughputConnections: THROUGHPUT_CONNECTIONS, stream: STREAM },
        targets: {
          addedP50Ms: { target: TARGET_ADDED_P50_MS, measured: addedP50, pass: latencyPass, coresKeptAwake: awakeAddedP50 },
          chunksForwardedAsTheyArrive: { addedPerChunkMedianMs: addedPerChunk, chunkDelayP99Ms: str.p99.proxied, intervalMs: STREAM.intervalMs, pass: streamPass },
        },
        rows,
        wrkErrors: errors,
        durationSeconds: seconds,
        raw: {
          latency: run.latency,
          throughput: run.throughput,
          proxyCpuUsPerRequest: run.proxyCpuUsPerRequest,
          streams: streamSummary(run.streams),
          awake: run.awake && { latency: run.awake.latency, streams: streamSummary(run.awake.streams) },
        },
      },
      null,
      2,
    )}\n`,
  );
}

await main();
