// The swap-thrash report: the table per model count, definitions, and the PASS/FAIL checks.
import os from 'node:os';
import { mean, percentile } from './helpers.js';
import type { RunResult, ThrashSettings } from './types.js';

const fmtMs = (x: number | undefined | null) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);

function stats(xs: (number | undefined)[]) {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return { n: v.length, p50: percentile(v, 50), max: v.length ? Math.max(...v) : NaN, mean: mean(v) };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, ri) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (ri === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

export function report(settings: ThrashSettings, results: RunResult[]) {
  const out: string[] = [];
  const boundMs = settings.swapMaxWaitMs + settings.loadMs + settings.serviceMs;
  out.push('');
  out.push(`swap-thrash: exclusive GPU, load ${settings.loadMs} ms (FAKE_READY_DELAY_MS), service ${settings.serviceMs} ms per request (fake_delay_ms),`);
  out.push(`${settings.clients} closed-loop clients per model, ${settings.seconds} s per run, swap.maxWait ${settings.swapMaxWaitMs} ms`);
  const checks: { name: string; pass: boolean }[] = [];
  const notes: string[] = [];
  for (const n of settings.modelCounts) {
    const runs = settings.policies.map((p) => results.find((r) => r.policy === p && r.models === n)!);
    out.push('');
    out.push(`${n} models`);
    const row = (label: string, f: (r: RunResult) => string) => [label, ...runs.map(f)];
    out.push(
      table([
        ['', ...runs.map((r) => r.policy)],
        row('requests completed', (r) => String(r.completed)),
        row('throughput (req/s)', (r) => r.throughputPerSec.toFixed(1)),
        row('swaps (swapCount; + after end)', (r) => `${r.swaps} + ${r.swapsAfterEnd}`),
        row('requests per swap', (r) => (r.swaps ? (r.completed / r.swaps).toFixed(1) : '–')),
        row('end-to-end latency p50', (r) => fmtMs(r.latencyMs.p50)),
        row('end-to-end latency p99', (r) => fmtMs(r.latencyMs.p99)),
        row('end-to-end latency max', (r) => fmtMs(r.latencyMs.max)),
        row('wait p50 (latency - service)', (r) => fmtMs(r.waitMs.p50)),
        row('wait p99 (latency - service)', (r) => fmtMs(r.waitMs.p99)),
        row('queue wait p99 (acquire→lease)', (r) => fmtMs(r.queueWaitMs.p99)),
        row('requests per load p50 / min', (r) => {
          const served = r.turns.filter((t) => t.stopAtS !== undefined).map((t) => t.served);
          return served.length ? `${percentile(served, 50)} / ${Math.min(...served)}` : '–';
        }),
        row('longest wait: enqueue→drain', (r) => fmtMs(r.swapWaits.longest?.untilDrainMs)),
        row('  + drain (in flight finish)', (r) => fmtMs(r.swapWaits.longest?.drainMs)),
        row('  + swap decision→ready', (r) => fmtMs(r.swapWaits.longest?.swapMs)),
        row('  + ready→lease', (r) => fmtMs(r.swapWaits.longest?.readyToLeaseMs)),
        row('load average (CPUs: ' + os.availableParallelism() + ')', (r) => r.loadAverage.toFixed(1)),
        row('errors / cut at end', (r) => `${r.errors} / ${r.abandonedAtEnd}`),
        row('readiness lag p50 / max', (r) => {
          const s = stats(r.loadDetails.map((l) => l.readinessLagMs));
          return `${fmtMs(s.p50)} / ${fmtMs(s.max)}`;
        }),
        row('  of which probe lag p50 / max', (r) => {
          const s = stats(r.loadDetails.map((l) => l.probeLagMs));
          return `${fmtMs(s.p50)} / ${fmtMs(s.max)}`;
        }),
        row('swap: drain p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.drainMs)).p50)),
        row('swap: decision→ready p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.totalMs)).p50)),
        row('  engine stop+remove p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.engineStopMs)).p50)),
        row('  engine image+create+start p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.engineStartMs)).p50)),
        row('  model boot+load p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.modelLoadMs)).p50)),
        row('  overhead p50 / max', (r) => {
          const s = stats(r.swapDetails.map((x) => x.overheadMs));
          return `${fmtMs(s.p50)} / ${fmtMs(s.max)}`;
        }),
        row('    readiness probe lag p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.probeLagMs)).p50)),
        row('    other gaps p50', (r) => fmtMs(stats(r.swapDetails.map((s) => s.otherGapsMs)).p50)),
      ]),
    );
    const fifo = runs.find((r) => r.policy === 'fifo');
    const grouped = runs.find((r) => r.policy === 'grouped');
    if (fifo && grouped) {
      const ratio = grouped.completed / Math.max(1, fifo.completed);
      const c1 = { name: `${n} models: grouped completes ≥ 3× fifo (${ratio.toFixed(1)}×: ${grouped.completed} vs ${fifo.completed})`, pass: ratio >= 3 };
      // "One load" as a client lives it: the drain of the request in flight (≤ one service time)
      // plus the swap itself, decision → ready (stop, create, start, model load, readiness probe).
      const swapMs = stats(grouped.swapDetails.map((x) => x.totalMs)).p50;
      const swapBoundMs = settings.swapMaxWaitMs + settings.serviceMs + swapMs;
      const c2 = {
        name: `${n} models: grouped wait p99 ${fmtMs(grouped.waitMs.p99)} ≤ swap.maxWait + drain (service) + one swap (${fmtMs(swapMs)}) = ${fmtMs(swapBoundMs)} (max ${fmtMs(grouped.waitMs.max)})`,
        pass: grouped.waitMs.p99 <= swapBoundMs,
      };
      notes.push(`${n} models: against the nominal bound swap.maxWait + load + service = ${fmtMs(boundMs)}: ${grouped.waitMs.p99 <= boundMs ? 'within' : `${fmtMs(grouped.waitMs.p99 - boundMs)} over`}`);
      checks.push(c1, c2);
      // The same bound with what the engine and the model really took per swap, instead of the
      // nominal load: what is left over is the scheduler's own share (not a pass/fail criterion).
      const engineMs =
        stats(grouped.swapDetails.map((x) => x.engineStopMs)).p50 +
        stats(grouped.swapDetails.map((x) => x.engineStartMs)).p50 +
        stats(grouped.swapDetails.map((x) => x.modelLoadMs)).p50;
      const measuredBound = settings.swapMaxWaitMs + engineMs + settings.serviceMs;
      notes.push(
        `${n} models: grouped wait p99 ${fmtMs(grouped.waitMs.p99)} vs swap.maxWait + measured engine stop/start + boot/load (${fmtMs(engineMs)}) + service = ${fmtMs(measuredBound)}: ${grouped.waitMs.p99 <= measuredBound ? 'within' : `${fmtMs(grouped.waitMs.p99 - measuredBound)} over`}`,
      );
    }
  }
  out.push('');
  out.push('Definitions:');
  out.push('  end-to-end latency: client sends the request → has read the whole answer (includes the service time).');
  out.push(`  wait: end-to-end latency - ${settings.serviceMs} ms service time. queue wait: scheduler.acquire() called → lease granted.`);
  out.push('  readiness lag: backend ready (first 200 from a 1 ms /health poller started when runtime.start() returned)');
  out.push('    → first request forwarded to it (lease granted). probe lag: backend ready → scheduler marks the model ready.');
  out.push('  swap (from the "Swapping" decision, = swapCount++, to the scheduler marking the target ready):');
  out.push('    overhead = decision→ready - (runtime.stop+remove of the evicted model) - (ensureImage+create+start of the target)');
  out.push('               - (model boot+load: runtime.start() returned → backend ready);  = readiness probe lag + other gaps.');
  out.push('    drain: "Draining" decision → "Swapping" decision (requests in flight on the evicted model finishing).');
  out.push('');
  for (const c of checks) out.push(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}`);
  for (const note of notes) out.push(`info  ${note}`);
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
  return checks;
}
