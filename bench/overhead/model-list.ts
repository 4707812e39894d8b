// `GET /v1/models` with 500 configured models (all but one with two aliases: 1,498 entries): latency
// p50/p99 at 1 connection (wrk, with the API key), before and after alternating round by round.
// Both versions run bench/serve-fake.ts --models 500 pinned to the proxy core in turn.
import type { ServeFakeReady } from '../serve-fake.js';
import type { SourceTree } from './before-tree.js';
import { MODEL_LIST_MODELS, orderOf, type Plan, type ProxyMode } from './plan.js';
import { authHeaders, startSwapdock, stopSwapdock, subscribeEvents } from './swapdock-process.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface ModelListRun {
  models: number;
  /** Entries in `data` and bytes of the body, per version (a sanity check that both list all). */
  entries: Partial<Record<ProxyMode, number>>;
  bodyBytes: Partial<Record<ProxyMode, number>>;
  rounds: Partial<Record<ProxyMode, WrkResult[]>>;
}

export async function measureModelList(trees: Partial<Record<ProxyMode, SourceTree>>, backend: string, plan: Plan, log: (msg: string) => void): Promise<ModelListRun> {
  const modes = (['before', 'proxied'] as const).filter((m) => trees[m]);
  const run: ModelListRun = { models: MODEL_LIST_MODELS, entries: {}, bodyBytes: {}, rounds: {} };
  const started: { mode: ProxyMode; child: Awaited<ReturnType<typeof startSwapdock>>['child']; ready: ServeFakeReady; events?: { close(): void } }[] = [];
  try {
    for (const mode of modes) {
      const { child, ready } = await startSwapdock({ tree: trees[mode]!, args: `--models ${MODEL_LIST_MODELS} --backend ${backend}`, label: label(mode) });
      const entry: (typeof started)[number] = { mode, child, ready };
      started.push(entry);
      entry.events = await subscribeEvents(ready, label(mode));
      const res = await fetch(`${ready.url}/v1/models`, { headers: authHeaders(ready) });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`GET /v1/models of swapdock (${label(mode)}) answered ${res.status}: ${body.slice(0, 200)}`);
      run.entries[mode] = (JSON.parse(body) as { data: unknown[] }).data.length;
      run.bodyBytes[mode] = Buffer.byteLength(body);
      run.rounds[mode] = [];
    }
    const target = (mode: ProxyMode) => {
      const ready = started.find((s) => s.mode === mode)!.ready;
      return { url: `${ready.url}/v1/models`, headers: authHeaders(ready) };
    };
    log(`GET /v1/models, ${MODEL_LIST_MODELS} models: warm-up ${plan.warmupSeconds} s, then ${plan.modelListRounds} rounds × ${plan.modelListSeconds} s per version at 1 connection`);
    for (const mode of modes) await runWrk(target(mode), 1, plan.warmupSeconds);
    for (let r = 0; r < plan.modelListRounds; r++) {
      for (const mode of orderOf(modes, r) as ProxyMode[]) run.rounds[mode]!.push(await runWrk(target(mode), 1, plan.modelListSeconds));
    }
    return run;
  } finally {
    for (const s of started) {
      s.events?.close();
      await stopSwapdock(s.child);
    }
  }
}

export const label = (mode: ProxyMode) => (mode === 'before' ? 'before' : 'after');
