// The bench driver compiled to plain JavaScript, so that swapdock is measured as users run it
// (`node bin/swapdock.js`, compiled dist/), not through tsx's loader: tsx keeps its module hooks
// and source-map support installed for the life of the process, which measured here about 10% more
// CPU per proxied request than the same code compiled.
//
// tsc compiles bench/serve-fake.ts and everything it imports (the tree's src/, bench/bench-config.ts,
// test/support/fake-runtime.ts) into <tree>/.bench/driver/, with the tree's own tsconfig.json as the
// base; a copy of the tree's package.json beside it makes the output ESM and lets src/version.ts
// read the version. Packages resolve from the tree's node_modules (up the directory tree).
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { SourceTree } from './before-tree.js';
import { ROOT } from './plan.js';

const DRIVER = 'bench/serve-fake.ts';

/** Compiles the tree's bench/serve-fake.ts; returns the tree with `serve` pointing at the .js. */
export function compileDriver(tree: SourceTree, log: (msg: string) => void): SourceTree {
  const work = path.join(tree.dir, '.bench');
  const out = path.join(work, 'driver');
  mkdirSync(work, { recursive: true });
  rmSync(out, { recursive: true, force: true });
  const tsconfig = path.join(work, 'driver.tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', outDir: 'driver', sourceMap: false, noEmitOnError: false, incremental: false },
      files: [`../${DRIVER}`],
      include: [],
    }),
  );
  log(`compiling ${DRIVER} in ${path.relative(ROOT, tree.dir) || '.'} to JavaScript (tsc)…`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: tree.dir, encoding: 'utf8' });
  const serve = path.join(out, DRIVER.replace(/\.ts$/, '.js'));
  // tsc emits even when it reports type errors (work in progress elsewhere in the tree).
  if (result.status !== 0) log(`tsc reported errors (measuring what it emitted):\n${(result.stdout + result.stderr).trim().split('\n').slice(0, 5).join('\n')}`);
  if (!existsSync(serve)) throw new Error(`tsc produced no ${path.relative(tree.dir, serve)}:\n${result.stdout}${result.stderr}`);
  copyFileSync(path.join(tree.dir, 'package.json'), path.join(out, 'package.json'));
  return { dir: tree.dir, serve: path.relative(tree.dir, serve) };
}
