// The proxy-overhead report: one table (direct, and swapdock before/after when --before is given),
// the targets with PASS/FAIL for the current version, and .bench/proxy-overhead.json.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServeFakeReady } from '../serve-fake.js';
import { CLIENT_CPU, CPU_COUNT, PIN, PROXY_CPU } from './cores.js';
import type { RssRun } from './idle-rss.js';
import type { ModelListRun } from './model-list.js';
import { RESULT_FILE, ROOT, RSS_MODEL_COUNTS, STREAM, TARGETS, THROUGHPUT_CONNECTIONS, type BenchOptions, type Mode, type ProxyMode } from './plan.js';
import type { StreamSample } from './stream.js';
import type { WrkResult } from './wrk.js';

/** Everything one run measured, per mode, as the report takes it (modes not run: empty lists). */
export interface Measurements {
  modes: readonly Mode[];
  latency: Record<Mode, WrkResult[]>;
  throughput: Record<number, Record<Mode, WrkResult[]>>;
  proxyCpuUsPerRequest: Record<ProxyMode, Record<number, number[]>>;
  streams: Record<Mode, StreamSample[]>;
  awake?: { latency: Record<Mode, WrkResult[]>; streams: Record<Mode, StreamSample[]> };
  modelList?: ModelListRun;
  rss?: RssRun;
  /** Bytes each swapdock wrote to its /api/events subscriber during the run. */
  eventBytes: Partial<Record<ProxyMode, number>>;
  /** Sections that failed, with why. */
  failures: string[];
}

export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

interface Row {
  metric: string;
  unit: string;
  values: Partial<Record<Mode, number>>;
  /** Show "added" (mode minus direct) columns: latency-like rows only. */
  added: boolean;
}

export function report(ready: ServeFakeReady, run: Measurements, options: BenchOptions): void {
  const { modes } = run;
  const proxyModes = modes.filter((m): m is ProxyMode => m !== 'direct');
  const hasBefore = modes.includes('before');
  const byMode = <T>(f: (mode: Mode) => T): Partial<Record<Mode, T>> => Object.fromEntries(modes.map((m) => [m, f(m)]));
  const latencyOf = (latency: Record<Mode, WrkResult[]>) => ({
    p50: byMode((m) => median(latency[m].map((w) => w.p50Ms))),
    p99: byMode((m) => median(latency[m].map((w) => w.p99Ms))),
  });
  const streamsOf = (streams: Record<Mode, StreamSample[]>) => {
    const delays = byMode((m) => streams[m].flatMap((s) => s.chunkDelaysMs));
    return {
      ttfb: byMode((m) => median(streams[m].map((s) => s.ttfbMs))),
      p50: byMode((m) => median(delays[m]!)),
      p99: byMode((m) => percentile(delays[m]!, 99)),
      max: byMode((m) => Math.max(...delays[m]!)),
    };
  };
  const added = (values: Partial<Record<Mode, number>>, mode: Mode) => (values[mode] ?? NaN) - (values.direct ?? NaN);

  const lat = latencyOf(run.latency);
  const str = streamsOf(run.streams);
  const rows: Row[] = [
    { metric: 'latency p50, 1 connection', unit: 'ms', values: lat.p50, added: true },
    { metric: 'latency p99, 1 connection', unit: 'ms', values: lat.p99, added: true },
  ];
  for (const c of THROUGHPUT_CONNECTIONS) {
    rows.push({ metric: `requests/s, ${c} connections`, unit: 'req/s', values: byMode((m) => median(run.throughput[c]![m].map((w) => w.requestsPerSec))), added: false });
  }
  const cpuUs = (mode: ProxyMode, c: number) => median(run.proxyCpuUsPerRequest[mode][c] ?? []);
  for (const c of [1, ...THROUGHPUT_CONNECTIONS]) {
    rows.push({ metric: `proxy CPU per request, ${c} conn${c === 1 ? '' : 's'}`, unit: 'µs', values: Object.fromEntries(proxyModes.map((m) => [m, cpuUs(m, c)])), added: false });
  }
  rows.push(
    { metric: 'stream: time to first byte', unit: 'ms', values: str.ttfb, added: true },
    { metric: 'stream: chunk delay, median', unit: 'ms', values: str.p50, added: true },
    { metric: 'stream: chunk delay, p99', unit: 'ms', values: str.p99, added: true },
    { metric: 'stream: chunk delay, max', unit: 'ms', values: str.max, added: true },
  );
  let awake: { lat: ReturnType<typeof latencyOf>; str: ReturnType<typeof streamsOf> } | undefined;
  if (run.awake) {
    awake = { lat: latencyOf(run.awake.latency), str: streamsOf(run.awake.streams) };
    rows.push(
      { metric: 'cores kept awake: latency p50, 1 conn', unit: 'ms', values: awake.lat.p50, added: true },
      { metric: 'cores kept awake: latency p99, 1 conn', unit: 'ms', values: awake.lat.p99, added: true },
      { metric: 'cores kept awake: stream TTFB', unit: 'ms', values: awake.str.ttfb, added: true },
      { metric: 'cores kept awake: delay per chunk, median', unit: 'ms', values: awake.str.p50, added: true },
    );
  }
  const list = run.modelList;
  const listP = (p: 'p50Ms' | 'p99Ms') => Object.fromEntries(proxyModes.map((m) => [m, median((list?.rounds[m] ?? []).map((w) => w[p]))]));
  if (list) {
    rows.push(
      { metric: `GET /v1/models p50, ${list.models} models, 1 conn`, unit: 'ms', values: listP('p50Ms'), added: false },
      { metric: `GET /v1/models p99, ${list.models} models, 1 conn`, unit: 'ms', values: listP('p99Ms'), added: false },
    );
  }
  const rssMb = (count: number) => Object.fromEntries(proxyModes.map((m) => [m, run.rss?.available ? median(run.rss.rounds[count]?.[m] ?? []) : NaN]));
  if (run.rss?.available) for (const count of RSS_MODEL_COUNTS) rows.push({ metric: `idle RSS, ${count} models (swapdock serve)`, unit: 'MB', values: rssMb(count), added: false });

  const fmt = (x: number | null | undefined, unit: string, signed = false) => {
    if (x === null || x === undefined || Number.isNaN(x) || !Number.isFinite(x)) return '—';
    const digits = unit === 'req/s' || unit === 'µs' ? 0 : unit === 'ms' ? 3 : 1;
    const s = x.toFixed(digits);
    return signed && x >= 0 ? `+${s}` : s;
  };
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
  const header = hasBefore
    ? ['metric', 'unit', 'direct', 'before', 'after', 'added before', 'added after', 'after ÷ before']
    : ['metric', 'unit', 'direct', 'proxied', 'added', 'ratio'];
  const cells = (r: Row) => {
    const values = modes.map((m) => fmt(r.values[m], r.unit));
    const adds = proxyModes.map((m) => (r.added ? fmt(added(r.values, m), r.unit, true) : '—'));
    return [r.metric, r.unit, ...values, ...adds, hasBefore ? ratio(r.values.proxied, r.values.before) : ratio(r.values.proxied, r.values.direct)];
  };
  const table = [header, ...rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');

  // Targets, for the current version ("after"); the version before's figure for comparison.
  const targets: { name: string; measured: number; before?: number; limit: number; unit: string; signed?: boolean; note?: string }[] = [];
  targets.push({ name: 'proxy CPU per request, 64 connections', measured: cpuUs('proxied', 64), before: hasBefore ? cpuUs('before', 64) : undefined, limit: TARGETS.proxyCpuUs64, unit: 'µs' });
  targets.push({
    name: 'added latency p50, 1 connection', measured: added(lat.p50, 'proxied'), before: hasBefore ? added(lat.p50, 'before') : undefined, limit: TARGETS.addedP50Ms, unit: 'ms', signed: true,
    note: awake ? `cores kept awake: ${fmt(added(awake.lat.p50, 'proxied'), 'ms', true)} ms` : undefined,
  });
  targets.push({
    name: 'added delay per streamed chunk, median', measured: added(str.p50, 'proxied'), before: hasBefore ? added(str.p50, 'before') : undefined, limit: TARGETS.addedPerChunkMs, unit: 'ms', signed: true,
    note: `p99 chunk delay ${fmt(str.p99.proxied, 'ms')} ms, ${(str.p99.proxied ?? Infinity) < STREAM.intervalMs ? 'under' : 'NOT under'} the ${STREAM.intervalMs} ms interval: chunks ${(str.p99.proxied ?? Infinity) < STREAM.intervalMs ? 'are' : 'are NOT'} forwarded as they arrive`,
  });
  if (list) targets.push({ name: `GET /v1/models p50, ${list.models} models`, measured: listP('p50Ms').proxied!, before: listP('p50Ms').before, limit: TARGETS.modelListP50Ms, unit: 'ms' });
  if (run.rss?.available) {
    for (const count of RSS_MODEL_COUNTS) targets.push({ name: `idle RSS, ${count} models`, measured: rssMb(count).proxied!, before: rssMb(count).before, limit: TARGETS.idleRssMb[count]!, unit: 'MB' });
  }
  const verdicts = targets.map((t) => ({ ...t, pass: t.measured <= t.limit }));
  const nameWidth = Math.max(...verdicts.map((t) => t.name.length)) + 4;

  const seconds = process.uptime();
  const out: string[] = [''];
  out.push(`swapdock proxy overhead — Node ${process.version}, ${CPU_COUNT} CPUs (${os.cpus()[0]?.model ?? '?'}), ${PIN ? `wrk+backend on core ${CLIENT_CPU}, swapdock on core ${PROXY_CPU}` : 'unpinned'}${options.quick ? ', QUICK run (not for reporting)' : ''}`);
  const { before } = options;
  if (before) out.push(`before = ${before.commit.startsWith(before.ref) ? before.commit.slice(0, 7) : `${before.ref} (${before.commit.slice(0, 7)})`}, after = this checkout (working tree); same driver (bench/serve-fake.ts), same backend, rounds alternating`);
  out.push(`medians of ${options.plan.latencyRounds} latency rounds × ${options.plan.latencySeconds} s, ${options.plan.throughputRounds} throughput rounds × ${options.plan.throughputSeconds} s, ${options.plan.streamRounds} streams × ${STREAM.chunks} chunks ${STREAM.intervalMs} ms apart per mode; API key on every request, an /api/events subscriber connected, metrics on, a JSON log line per request ('info')`);
  out.push('', line(header), line(widths.map((w) => '-'.repeat(w))), ...table.slice(1).map(line), '');
  for (const t of verdicts) {
    const beforeText = t.before !== undefined ? ` (before ${fmt(t.before, t.unit, t.signed)})` : '';
    out.push(`target${hasBefore ? ' (after)' : ''}: ${`${t.name} ≤ ${t.limit} ${t.unit} `.padEnd(nameWidth + 12, '.')} ${fmt(t.measured, t.unit, t.signed)} ${t.unit}${beforeText}  ${t.pass ? 'PASS' : 'FAIL'}${t.note ? `; ${t.note}` : ''}`);
  }
  if (run.rss && !run.rss.available) out.push(`idle RSS: skipped — ${run.rss.reason}`);
  for (const failure of run.failures) out.push(`FAILED section ${failure.split('\n')[0]}`);
  if (list) out.push(`GET /v1/models lists ${proxyModes.map((m) => `${list.entries[m]} entries (${((list.bodyBytes[m] ?? 0) / 1024).toFixed(0)} KiB) ${m === 'before' ? 'before' : 'after'}`).join(', ')}`);
  if (awake) out.push('"cores kept awake": a SCHED_IDLE busy loop per core keeps vCPUs from halting; the difference to the rows above is what waking halted vCPUs costs on this machine (4 cross-core hops per proxied request, none direct), not proxy work.');
  const events = proxyModes.map((m) => `${m === 'proxied' ? (hasBefore ? 'after' : 'swapdock') : 'before'} ${((run.eventBytes[m] ?? 0) / 1e6).toFixed(1)} MB`).join(', ');
  out.push(`/api/events subscriber received: ${events}`);
  const allWrk = [...Object.values(run.latency), ...Object.values(run.throughput).flatMap((t) => Object.values(t)), ...Object.values(run.awake?.latency ?? {}), ...Object.values(list?.rounds ?? {})].flat();
  const errors = allWrk.reduce((n, w) => n + w.errors, 0);
  if (errors > 0) out.push(`WARNING: wrk saw ${errors} errors or non-2xx responses`);
  out.push(`bench took ${seconds.toFixed(0)} s; results in ${path.relative(ROOT, RESULT_FILE)}`);
  console.log(out.join('\n'));

  const streamSummary = (streams: Record<Mode, StreamSample[]>) =>
    byMode((m) => streams[m].map((s) => ({ ttfbMs: s.ttfbMs, chunkDelayMedianMs: median(s.chunkDelaysMs), chunkDelayMaxMs: Math.max(...s.chunkDelaysMs) })));
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: CPU_COUNT,
    cpuModel: os.cpus()[0]?.model,
    pinned: PIN ? { clientAndBackend: CLIENT_CPU, proxy: PROXY_CPU } : false,
    proxy: { serve: options.serve, args: options.serveArgs, url: ready.url, backendUrl: ready.backendUrl },
    before: options.before ?? null,
    quick: options.quick,
    plan: { ...options.plan, throughputConnections: THROUGHPUT_CONNECTIONS, stream: STREAM },
    targets: verdicts,
    rows,
    wrkErrors: errors,
    durationSeconds: seconds,
    raw: {
      latency: run.latency,
      throughput: run.throughput,
      proxyCpuUsPerRequest: run.proxyCpuUsPerRequest,
      streams: streamSummary(run.streams),
      awake: run.awake && { latency: run.awake.latency, streams: streamSummary(run.awake.streams) },
      modelList: list,
      idleRss: run.rss,
      eventBytes: run.eventBytes,
    },
    failures: run.failures,
  };
  writeFileSync(RESULT_FILE, `${JSON.stringify(result, null, 2)}\n`);
}
