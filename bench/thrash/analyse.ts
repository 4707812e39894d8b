// Analysis of one thrash run: latencies, readiness lag per load, breakdown per swap, swap waits.
import os from 'node:os';
import { mean, percentile, say } from './helpers.js';
import type { EngineCall, LogEvent, TimedRuntime } from './observe.js';
import type { GrantRecord, LoadRecord, Policy, RequestRecord, RunResult, SwapRecord, ThrashSettings } from './types.js';

export function analyse(settings: ThrashSettings, input: {
  policy: Policy;
  models: string[];
  records: RequestRecord[];
  grants: GrantRecord[];
  events: LogEvent[];
  runtime: TimedRuntime;
  startAt: number;
  endAt: number;
  swaps: number;
  swapsInGrace: number;
  abandonedAtEnd: number;
}): RunResult {
  const { policy, models, records, grants, events, runtime, startAt, endAt } = input;
  const ok = records.filter((r) => r.status === 200);
  const completed = ok.filter((r) => r.doneAt <= endAt).length;
  const latencies = ok.map((r) => r.doneAt - r.sentAt);
  // "Wait": end-to-end latency minus the request's own service time on the backend.
  const waits = latencies.map((l) => Math.max(0, l - settings.serviceMs));
  const queueWaits = grants.filter((g) => g.grantedAt !== undefined && g.acquiredAt >= startAt).map((g) => g.grantedAt! - g.acquiredAt);

  const firstAfter = <T>(xs: readonly T[], at: (x: T) => number | undefined, t: number, pred: (x: T) => boolean = () => true) =>
    xs.filter((x) => pred(x) && (at(x) ?? -Infinity) >= t).sort((a, b) => at(a)! - at(b)!)[0];
  const schedReady = events.filter((e) => e.msg.startsWith('Model ready'));

  // Per load: backend ready (poller) → first request forwarded (lease granted) to that model.
  const loads: LoadRecord[] = runtime.ready.map((r) => {
    const sched = firstAfter(schedReady, (e) => e.time, r.startedAt, (e) => e.model === r.model);
    const grant = sched ? firstAfter(grants, (g) => g.grantedAt, sched.time - 0.5, (g) => g.model === r.model) : undefined;
    const answer = sched ? firstAfter(records, (x) => x.doneAt, sched.time, (x) => x.model === r.model && x.status === 200) : undefined;
    return {
      model: r.model,
      startedAt: r.startedAt,
      backendReadyAt: r.readyAt,
      logReadyAt: r.logReadyAt,
      schedReadyAt: sched?.time,
      firstGrantAt: grant?.grantedAt,
      firstAnswerAt: answer?.doneAt,
      readinessLagMs: r.readyAt !== undefined && grant?.grantedAt !== undefined ? grant.grantedAt - r.readyAt : undefined,
      probeLagMs: r.readyAt !== undefined && sched ? sched.time - r.readyAt : undefined,
      polls: r.polls,
    };
  });

  const calls = runtime.timings;
  const swapEvents = events.filter((e) => e.msg.startsWith('Swapping'));
  const swapDetails: SwapRecord[] = swapEvents
    .filter((e) => e.time >= startAt)
    .map((e) => {
      const target = e.model!;
      const evicted = e.evict ?? [];
      // The drain that led to this swap came after the previous swap (none: the evicted model was idle).
      const previous = swapEvents.filter((x) => x.time < e.time).at(-1)?.time ?? -Infinity;
      const drain = events.filter((d) => d.msg.startsWith('Draining') && d.for === target && evicted.includes(d.model!) && d.time <= e.time && d.time > previous).at(-1);
      const sched = firstAfter(schedReady, (s) => s.time, e.time, (s) => s.model === target);
      const ready = runtime.ready.find((r) => r.model === target && r.startedAt >= e.time && (!sched || r.startedAt <= sched.time));
      const within = (c: EngineCall) => c.t0 >= e.time - 0.5 && (!sched || c.t1 <= sched.time + 0.5);
      const stopCalls = calls.filter((c) => (c.op === 'stop' || c.op === 'remove') && evicted.includes(c.model) && within(c));
      const startCalls = calls.filter((c) => (c.op === 'ensureImage' || c.op === 'create' || c.op === 'start') && c.model === target && within(c));
      const engineStopMs = stopCalls.reduce((s, c) => s + c.t1 - c.t0, 0);
      const engineStartMs = startCalls.reduce((s, c) => s + c.t1 - c.t0, 0);
      const startReturned = startCalls.filter((c) => c.op === 'start').at(-1)?.t1;
      const modelLoadMs = ready?.readyAt !== undefined && startReturned !== undefined ? ready.readyAt - startReturned : undefined;
      const totalMs = sched ? sched.time - e.time : undefined;
      const overheadMs = totalMs !== undefined && modelLoadMs !== undefined ? totalMs - engineStopMs - engineStartMs - modelLoadMs : undefined;
      const probeLagMs = sched && ready?.readyAt !== undefined ? sched.time - ready.readyAt : undefined;
      const grant = sched ? firstAfter(grants, (g) => g.grantedAt, sched.time - 0.5, (g) => g.model === target) : undefined;
      return {
        target,
        evicted,
        drainAt: drain?.time,
        decidedAt: e.time,
        schedReadyAt: sched?.time,
        backendReadyAt: ready?.readyAt,
        firstGrantAt: grant?.grantedAt,
        engineStopMs,
        engineStartMs,
        modelLoadMs,
        drainMs: drain ? e.time - drain.time : undefined,
        totalMs,
        overheadMs,
        probeLagMs,
        otherGapsMs: overheadMs !== undefined && probeLagMs !== undefined ? overheadMs - probeLagMs : undefined,
      };
    });

  const perModel: RunResult['perModel'] = {};
  for (const m of models) {
    const mine = ok.filter((r) => r.model === m);
    perModel[m] = { completed: mine.filter((r) => r.doneAt <= endAt).length, p99LatencyMs: percentile(mine.map((r) => r.doneAt - r.sentAt), 99) };
  }
  // Residencies: how many requests each load served before the model was stopped again.
  const stopping = events.filter((e) => e.msg.startsWith('Stopping model'));
  const turns = loads
    .filter((l) => l.schedReadyAt !== undefined && l.schedReadyAt >= startAt && l.schedReadyAt < endAt)
    .map((l) => {
      const stop = firstAfter(stopping, (e) => e.time, l.schedReadyAt!, (e) => e.model === l.model);
      const until = stop?.time ?? Infinity;
      const served = grants.filter((g) => g.model === l.model && g.grantedAt !== undefined && g.grantedAt >= l.schedReadyAt! - 0.5 && g.grantedAt <= until).length;
      return { model: l.model, readyAtS: (l.schedReadyAt! - startAt) / 1000, stopAtS: stop ? (stop.time - startAt) / 1000 : undefined, served };
    });

  // Requests that waited for a swap of their own model: enqueue → drain decision → swap decision → ready → lease.
  const crossed = grants
    .filter((g) => g.grantedAt !== undefined && g.acquiredAt >= startAt)
    .flatMap((g) => {
      const swap = swapDetails.filter((x) => x.target === g.model && x.decidedAt >= g.acquiredAt && x.schedReadyAt !== undefined && x.schedReadyAt <= g.grantedAt! + 0.5).at(-1);
      if (!swap) return [];
      const drainAt = swap.drainAt ?? swap.decidedAt;
      return [{ model: g.model, totalMs: g.grantedAt! - g.acquiredAt, untilDrainMs: drainAt - g.acquiredAt, drainMs: swap.decidedAt - drainAt, swapMs: swap.schedReadyAt! - swap.decidedAt, readyToLeaseMs: g.grantedAt! - swap.schedReadyAt! }];
    });
  const p50max = (xs: number[]) => ({ p50: percentile(xs, 50), max: xs.length ? Math.max(...xs) : NaN });
  const swapWaits = {
    count: crossed.length,
    longest: [...crossed].sort((a, b) => b.totalMs - a.totalMs)[0],
    untilDrainMs: p50max(crossed.map((c) => c.untilDrainMs)),
    swapMs: p50max(crossed.map((c) => c.swapMs)),
    readyToLeaseMs: p50max(crossed.map((c) => c.readyToLeaseMs)),
  };
  const relative = <T extends object>(x: T): T =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k.endsWith('At') && typeof v === 'number' ? v - startAt : v])) as T;

  const errors = records.filter((r) => r.status !== 200);
  if (errors.length) say(`${policy}: ${errors.length} failed request(s), e.g. ${errors[0]!.status} ${errors[0]!.error}`);

  return {
    policy,
    models: models.length,
    clientsPerModel: settings.clients,
    seconds: settings.seconds,
    completed,
    errors: errors.length,
    swaps: input.swaps,
    swapsAfterEnd: input.swapsInGrace,
    loads: loads.filter((l) => l.startedAt >= startAt).length,
    throughputPerSec: completed / settings.seconds,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), mean: mean(latencies) },
    waitMs: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: Math.max(...waits) },
    queueWaitMs: { p50: percentile(queueWaits, 50), p99: percentile(queueWaits, 99), max: Math.max(...queueWaits) },
    perModel,
    abandonedAtEnd: input.abandonedAtEnd,
    loadAverage: os.loadavg()[0]!,
    swapDetails: swapDetails.map(relative),
    loadDetails: loads.map(relative),
    turns,
    swapWaits,
  };
}
