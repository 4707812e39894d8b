// The proxy-overhead report: table and targets on stdout, and .bench/proxy-overhead.json.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServeFakeReady } from '../serve-fake.js';
import { CLIENT_CPU, CPU_COUNT, PIN, PROXY_CPU } from './cores.js';
import { RESULT_FILE, ROOT, STREAM, TARGET_ADDED_P50_MS, THROUGHPUT_CONNECTIONS, type BenchOptions, type Mode } from './plan.js';
import type { StreamSample } from './stream.js';
import type { WrkResult } from './wrk.js';

/** Everything one run measured, per mode, as the report takes it. */
export interface Measurements {
  latency: Record<Mode, WrkResult[]>;
  throughput: Record<number, Record<Mode, WrkResult[]>>;
  proxyCpuUsPerRequest: Record<number, number[]>;
  streams: Record<Mode, StreamSample[]>;
  awake?: { latency: Record<Mode, WrkResult[]>; streams: Record<Mode, StreamSample[]> };
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

interface Row {
  metric: string;
  unit: string;
  direct: number | null;
  proxied: number | null;
  added: number | null;
  ratio: number | null;
}

export function report(ready: ServeFakeReady, run: Measurements, options: BenchOptions): void {
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
  out.push(`swapdock proxy overhead — Node ${process.version}, ${CPU_COUNT} CPUs (${os.cpus()[0]?.model ?? '?'}), ${PIN ? `wrk+backend on core ${CLIENT_CPU}, swapdock on core ${PROXY_CPU}` : 'unpinned'}${options.quick ? ', QUICK run (not for reporting)' : ''}`);
  out.push(`medians of ${options.plan.latencyRounds} latency rounds × ${options.plan.latencySeconds} s, ${options.plan.throughputRounds} throughput rounds × ${options.plan.throughputSeconds} s, ${options.plan.streamRounds} streams × ${STREAM.chunks} chunks ${STREAM.intervalMs} ms apart per mode; swapdock logs at 'info' (a JSON line per request)`);
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
        proxy: { serve: options.serve, args: options.serveArgs, url: ready.url, backendUrl: ready.backendUrl },
        quick: options.quick,
        plan: { ...options.plan, throughputConnections: THROUGHPUT_CONNECTIONS, stream: STREAM },
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
