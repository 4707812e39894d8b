// The proxy-overhead plan: output paths, rounds per mode (full or --quick), stream shape, modes,
// targets (issue 11: what "after" must reach).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUT_DIR = path.join(ROOT, '.bench');
export const LUA = path.join(OUT_DIR, 'chat-post.lua');
export const RESULT_FILE = path.join(OUT_DIR, 'proxy-overhead.json');
/** Where `--before REF` checks out the version before (a git worktree). */
export const BEFORE_DIR = path.join(OUT_DIR, 'before');

/** Rounds and their lengths: --quick is for trying changes, not for reporting. */
export function planFor(quick: boolean) {
  return quick
    ? { warmupRounds: 1, warmupSeconds: 3, latencyRounds: 3, latencySeconds: 3, throughputRounds: 2, throughputSeconds: 2, streamRounds: 4, awakeLatencyRounds: 2, awakeStreamRounds: 3, modelListRounds: 3, modelListSeconds: 2, rssRounds: 1 }
    : { warmupRounds: 2, warmupSeconds: 3, latencyRounds: 5, latencySeconds: 5, throughputRounds: 4, throughputSeconds: 3, streamRounds: 10, awakeLatencyRounds: 3, awakeStreamRounds: 4, modelListRounds: 5, modelListSeconds: 4, rssRounds: 3 };
}
export type Plan = ReturnType<typeof planFor>;

export const THROUGHPUT_CONNECTIONS = [16, 64] as const;
export const STREAM = { chunks: 50, intervalMs: 10, warmupStreams: 2 };
/** Models configured for the GET /v1/models section; the idle RSS section runs with each count. */
export const MODEL_LIST_MODELS = 500;
export const RSS_MODEL_COUNTS = [3, 500] as const;

/** Issue 11's targets for the current version, with metrics, events, API keys and the request log on. */
export const TARGETS = {
  addedP50Ms: 0.25,
  proxyCpuUs64: 150,
  addedPerChunkMs: 0.3,
  modelListP50Ms: 2,
  idleRssMb: { 3: 80, 500: 120 } as Record<number, number>,
};

/** direct: the backend itself; before: swapdock at --before REF; proxied: the current swapdock ("after"). */
export type Mode = 'direct' | 'before' | 'proxied';
export type ProxyMode = Exclude<Mode, 'direct'>;
export const modesFor = (before: boolean): readonly Mode[] => (before ? ['direct', 'before', 'proxied'] : ['direct', 'proxied']);
/** Round r runs the modes rotated by r, so no mode always goes first on a warmer machine. */
export const orderOf = (modes: readonly Mode[], round: number): Mode[] => modes.map((_, i) => modes[(i + round) % modes.length]!);

/** The command-line options the swapdock children and the report need. */
export interface BenchOptions {
  quick: boolean;
  plan: Plan;
  cpuProf: boolean;
  serve: string;
  serveArgs: string;
  /** The --before ref as given, and the commit it names; absent: no comparison. */
  before?: { ref: string; commit: string };
}
