// The proxy-overhead plan: output paths, rounds per mode (full or --quick), stream shape, target.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUT_DIR = path.join(ROOT, '.bench');
export const LUA = path.join(OUT_DIR, 'chat-post.lua');
export const RESULT_FILE = path.join(OUT_DIR, 'proxy-overhead.json');

/** Rounds and their lengths: --quick is for trying changes, not for reporting. */
export function planFor(quick: boolean) {
  return quick
    ? { warmupRounds: 1, warmupSeconds: 3, latencyRounds: 3, latencySeconds: 3, throughputRounds: 2, throughputSeconds: 2, streamRounds: 4, awakeLatencyRounds: 2, awakeStreamRounds: 3 }
    : { warmupRounds: 2, warmupSeconds: 3, latencyRounds: 5, latencySeconds: 5, throughputRounds: 4, throughputSeconds: 3, streamRounds: 10, awakeLatencyRounds: 3, awakeStreamRounds: 4 };
}
export type Plan = ReturnType<typeof planFor>;

export const THROUGHPUT_CONNECTIONS = [16, 64] as const;
export const STREAM = { chunks: 50, intervalMs: 10, warmupStreams: 2 };
export const TARGET_ADDED_P50_MS = 0.3;

export type Mode = 'direct' | 'proxied';
export const MODES: readonly Mode[] = ['direct', 'proxied'];

/** The command-line options the swapdock child and the report need. */
export interface BenchOptions {
  quick: boolean;
  plan: Plan;
  cpuProf: boolean;
  serve: string;
  serveArgs: string;
}
