// Shared clock, stderr logging and statistics helpers of the swap-thrash bench.

/** One clock for everything: epoch ms with sub-ms precision (pino's timestamps use it too). */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const say = (msg: string) => process.stderr.write(`[bench:thrash] ${msg}\n`);

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const round1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
