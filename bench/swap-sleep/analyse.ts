// Takes each timed switch of a run apart into consecutive segments between observed points, so
// the segments add up to the swap time exactly; each segment is the backend's (a delay the fake
// model was configured with), the engine's (FakeRuntime calls standing in for Docker) or swapdock's.
import { mean, percentile } from '../thrash/helpers.js';
import type { HttpCall } from './observe.js';
import { MODELS, type ModeResult, type ModeRun, type Segment, type Share, type Stats, type SwitchRecord } from './types.js';

const median = (xs: number[]) => percentile(xs, 50);
export const stats = (xs: number[]): Stats => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), max: xs.length ? Math.max(...xs) : NaN, mean: mean(xs) });

/** Backend time in a sleep operation: the calls the fake model delays (its wake, reload and sleep). */
const isBackendCall = (path: string) => /^\/(sleep|wake_up|collective_rpc)(\?|$)/.test(path);

interface Point {
  label: string;
  at: number | undefined;
  share: Share;
  /** Which part of the backend share a backend segment is. */
  part?: 'sleep' | 'wake' | 'cold';
}

export function analyse(run: ModeRun): ModeResult {
  const { requests, grants, swaps, transitions, logEvents, engineCalls, boots, controlCalls, probes } = run;
  const warmAnswerMs: Record<string, number> = {};
  const firstLoadMs: Record<string, number> = {};
  for (const m of MODELS) {
    warmAnswerMs[m] = median(requests.filter((r) => r.model === m && r.kind === 'warm').map((r) => r.doneAt - r.sentAt));
    const first = requests.find((r) => r.model === m && r.kind === 'first');
    firstLoadMs[m] = first ? first.doneAt - first.sentAt : NaN;
  }

  const switches: SwitchRecord[] = requests
    .filter((r) => r.kind === 'switch' && r.status === 200)
    .map((r, index) => {
      const target = r.model;
      const evicted = MODELS.find((m) => m !== target)!;
      const inWin = (t: number | undefined) => t !== undefined && t >= r.sentAt - 0.5 && t <= r.doneAt + 0.5;
      const callsOf = (model: string) => controlCalls.filter((c) => c.model === model && inWin(c.t0)).sort((a, b) => a.t0 - b.t0);
      const grant = grants.find((g) => g.model === target && inWin(g.acquiredAt));
      const swap = swaps.find((s) => s.to === target && inWin(s.seenAt));
      const ready = transitions.find((t) => t.model === target && t.to === 'ready' && inWin(t.seenAt));
      const wakeCalls = callsOf(target);
      const boot = boots.find((b) => b.model === target && inWin(b.startedAt));
      const how: SwitchRecord['how'] = wakeCalls.some((c) => c.path.startsWith('/wake_up')) ? 'wake' : boot ? 'cold' : '?';
      const firstProbeAfter = (t: number | undefined) =>
        t === undefined ? undefined : probes.find((p) => p.model === target && p.t0 >= t - 0.5 && inWin(p.t0))?.t0;

      const points: Point[] = [
        { label: 'request in: sent → scheduler.acquire', at: grant?.acquiredAt, share: 'swapdock' },
        { label: 'acquire → swap decision (scheduler, swap policy)', at: swap?.seenAt, share: 'swapdock' },
      ];
      if (how === 'wake') {
        const sleepCalls = callsOf(evicted);
        const sleep = sleepCalls.find((c) => c.path.startsWith('/sleep'));
        const check = sleepCalls.find((c) => c.path === '/is_sleeping' && sleep?.t1 !== undefined && c.t0 >= sleep.t1);
        const asleep = logEvents.find((e) => e.msg.startsWith(`'${evicted}' is asleep`) && inWin(e.time));
        const waking = logEvents.find((e) => e.msg === `Waking '${target}'` && inWin(e.time));
        points.push(
          { label: `decision → /sleep sent to the evicted model`, at: sleep?.t0, share: 'swapdock' },
          { label: `evicted: /sleep?level=N (FAKE_SLEEP_DELAY_MS)`, at: sleep?.t1, share: 'backend', part: 'sleep' },
          { label: 'evicted: /is_sleeping check (sent + answered)', at: check?.t1, share: 'swapdock' },
          { label: 'sleep settled → logged asleep', at: asleep?.time, share: 'swapdock' },
          { label: 'asleep → Waking (releases settle, GPU p-queue, waitUntilFree)', at: waking?.time, share: 'swapdock' },
        );
        wakeCalls.forEach((c: HttpCall, i) => {
          const name = `${c.path}${c.path === '/is_sleeping' ? ' (wake check)' : ''}`;
          points.push(
            { label: i === 0 ? 'Waking → first wake call sent (new Client, connect)' : `gap → ${name}`, at: c.t0, share: 'swapdock' },
            { label: `target: ${name}`, at: c.t1, share: isBackendCall(c.path) ? 'backend' : 'swapdock', part: isBackendCall(c.path) ? 'wake' : undefined },
          );
        });
        points.push({ label: 'wake calls done → first readiness probe', at: firstProbeAfter(wakeCalls.at(-1)?.t1), share: 'swapdock' });
      } else if (how === 'cold') {
        const stop = engineCalls.find((c) => c.op === 'stop' && c.model === evicted && inWin(c.t0));
        const removed = engineCalls.find((c) => c.op === 'remove' && c.model === evicted && inWin(c.t0));
        const ensure = engineCalls.find((c) => c.op === 'ensureImage' && c.model === target && inWin(c.t0));
        const start = engineCalls.find((c) => c.op === 'start' && c.model === target && inWin(c.t0));
        points.push(
          { label: 'decision → engine stop of the evicted model', at: stop?.t0, share: 'swapdock' },
          { label: 'engine: stop + remove (evicted)', at: removed?.t1 ?? stop?.t1, share: 'engine' },
          { label: 'stopped → start begins (GPU p-queue)', at: ensure?.t0, share: 'swapdock' },
          { label: 'engine: ensureImage + create + start', at: start?.t1, share: 'engine' },
          { label: 'target: process boot + cold load (FAKE_LISTEN_DELAY_MS)', at: boot?.listeningAt, share: 'backend', part: 'cold' },
          { label: 'listening → next readiness probe (backoff 10→50 ms)', at: firstProbeAfter(boot?.listeningAt), share: 'swapdock' },
        );
      }
      points.push(
        { label: 'readiness probe → model ready', at: ready?.seenAt, share: 'swapdock' },
        { label: 'ready → lease granted', at: grant?.grantedAt, share: 'swapdock' },
        { label: 'answer (lease → done) - a warm request', at: r.doneAt - warmAnswerMs[target]!, share: 'swapdock' },
      );

      const missing = points.filter((p) => p.at === undefined).map((p) => p.label);
      const segments: (Segment & { part?: Point['part'] })[] = [];
      let prev = r.sentAt;
      for (const p of points) {
        if (p.at === undefined) continue;
        segments.push({ label: p.label, share: p.share, ms: p.at - prev, part: p.part });
        prev = p.at;
      }
      // The request's way in and its answer are also in the warm latency subtracted: one item.
      const first = segments.shift()!;
      const last = segments.pop()!;
      segments.push({ label: 'HTTP in + answer out, vs a warm request', share: 'swapdock', ms: first.ms + last.ms });
      const sum = (pred: (s: (typeof segments)[number]) => boolean) => segments.filter(pred).reduce((a, s) => a + s.ms, 0);
      const latencyMs = r.doneAt - r.sentAt;
      const swapMs = latencyMs - warmAnswerMs[target]!;
      const backendMs = sum((s) => s.share === 'backend');
      const engineMs = sum((s) => s.share === 'engine');
      return {
        index,
        target,
        evicted,
        latencyMs,
        swapMs,
        backendMs,
        engineMs,
        swapdockMs: swapMs - backendMs - engineMs,
        sleepMs: sum((s) => s.part === 'sleep'),
        wakeMs: sum((s) => s.part === 'wake'),
        coldLoadMs: sum((s) => s.part === 'cold'),
        readyEventMs: ready?.durationMs,
        how,
        segments: segments.map(({ label, share, ms }) => ({ label, share, ms })),
        missing,
      };
    });

  const labels: { label: string; share: Share }[] = [];
  for (const s of switches.flatMap((x) => x.segments)) if (!labels.some((l) => l.label === s.label)) labels.push({ label: s.label, share: s.share });
  const breakdown = labels.map(({ label, share }) => {
    const xs = switches.flatMap((x) => x.segments.filter((s) => s.label === label).map((s) => s.ms));
    return { label, share, p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) };
  });
  const of = (f: (s: SwitchRecord) => number) => stats(switches.map(f));
  return {
    mode: run.mode,
    warmAnswerMs,
    firstLoadMs,
    switches,
    swapMs: of((s) => s.swapMs),
    backendMs: of((s) => s.backendMs),
    engineMs: of((s) => s.engineMs),
    swapdockMs: of((s) => s.swapdockMs),
    sleepMs: of((s) => s.sleepMs),
    wakeMs: of((s) => s.wakeMs),
    coldLoadMs: of((s) => s.coldLoadMs),
    readyEventMs: stats(switches.flatMap((s) => (s.readyEventMs === undefined ? [] : [s.readyEventMs]))),
    wakes: switches.filter((s) => s.how === 'wake').length,
    coldStarts: switches.filter((s) => s.how === 'cold').length,
    breakdown,
  };
}
