// The benchmarks' swapdock config, as YAML text: one admin API key (so every request passes the
// key gate, as in production) and N models, the first one `fake` (the model the bench talks to),
// the rest generated entries with two aliases each (never requested, so never started).
// Imported by bench/serve-fake.ts and bench/overhead/idle-rss.ts. Self-contained on purpose:
// `npm run bench -- --before REF` copies it, with serve-fake.ts, into the old version's tree.

/** An admin key: ≥ 16 characters, no placeholder word, so every version's key check takes it. */
export const BENCH_KEY = 'bench-admin-3f9a1c0e7b2d4a6c';
export const BENCH_MODEL = 'fake';

export function benchConfigText(options: { instance: string; models: number }): string {
  const lines = [
    `instance: ${options.instance}`,
    'auth:',
    '  keys:',
    '    - name: bench',
    `      key: ${BENCH_KEY}`,
    '      admin: true',
    'models:',
    `  ${BENCH_MODEL}:`,
    '    image: fake-model:latest',
    '    ttl: 0   # never stopped for idleness during a run',
  ];
  for (let i = 1; i < options.models; i++) {
    const id = `model-${String(i).padStart(3, '0')}`;
    lines.push(`  ${id}:`, '    image: fake-model:latest', `    aliases: [${id}-q4, bench/${id}]`);
  }
  return `${lines.join('\n')}\n`;
}
