// The version before, for `--before REF`: a git worktree of REF under .bench/before (reused while
// it is at that commit), node_modules linked from this checkout, and the current driver
// (bench/serve-fake.ts and bench/bench-config.ts) copied into its bench/ so that both versions
// run the same driver against their own src/. Its dist/ (for the idle RSS section) is built once.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BEFORE_DIR, ROOT } from './plan.js';

export interface SourceTree {
  /** Checkout root: ROOT for the current version, BEFORE_DIR for the one before. */
  dir: string;
  /** The serve script, relative to dir. */
  serve: string;
}

const git = (args: string[], cwd = ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export function resolveCommit(ref: string): string {
  try {
    return git(['rev-parse', '--verify', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--before ${ref}: not a commit of this repository`);
  }
}

export function prepareBeforeTree(commit: string, log: (msg: string) => void): SourceTree {
  let current: string | undefined;
  try {
    current = existsSync(BEFORE_DIR) ? git(['rev-parse', 'HEAD'], BEFORE_DIR) : undefined;
  } catch {
    current = undefined;
  }
  // Only reuse a tree that is our own worktree (its .git is a file), not the main repository.
  const isWorktree = current !== undefined && lstatSync(path.join(BEFORE_DIR, '.git')).isFile();
  if (current === commit && isWorktree) {
    log(`reusing ${path.relative(ROOT, BEFORE_DIR)} at ${commit.slice(0, 7)}`);
  } else {
    if (existsSync(BEFORE_DIR)) {
      log(`${path.relative(ROOT, BEFORE_DIR)} is at ${current?.slice(0, 7) ?? 'no commit'}: replacing it`);
      if (isWorktree) spawnSync('git', ['worktree', 'remove', '--force', BEFORE_DIR], { cwd: ROOT, stdio: 'ignore' });
      rmSync(BEFORE_DIR, { recursive: true, force: true });
      git(['worktree', 'prune']);
    }
    log(`git worktree add ${path.relative(ROOT, BEFORE_DIR)} ${commit.slice(0, 7)}`);
    git(['worktree', 'add', '--detach', BEFORE_DIR, commit]);
  }
  const modules = path.join(BEFORE_DIR, 'node_modules');
  if (!existsSync(modules)) symlinkSync(path.join(ROOT, 'node_modules'), modules, 'dir');
  mkdirSync(path.join(BEFORE_DIR, 'bench'), { recursive: true });
  for (const file of ['serve-fake.ts', 'bench-config.ts']) copyFileSync(path.join(ROOT, 'bench', file), path.join(BEFORE_DIR, 'bench', file));
  return { dir: BEFORE_DIR, serve: 'bench/serve-fake.ts' };
}

/**
 * Builds dist/ with the tree's own tsconfig.build.json (what `npm run build` runs). The tree
 * before is built once per commit (a stamp in dist/); the current tree every run, since its
 * source changes. tsc still emits when it reports type errors (another engineer's work in
 * progress), so a failed check is a warning, not the end of the section.
 */
export function buildDist(tree: SourceTree, log: (msg: string) => void): void {
  const stamp = path.join(tree.dir, 'dist', '.bench-built');
  const commit = tree.dir === ROOT ? undefined : git(['rev-parse', 'HEAD'], tree.dir);
  if (commit && existsSync(stamp) && readFileSync(stamp, 'utf8') === commit) return;
  log(`building dist/ in ${path.relative(ROOT, tree.dir) || '.'} (tsc -p tsconfig.build.json)…`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: tree.dir, encoding: 'utf8' });
  if (result.status !== 0) log(`tsc reported errors in ${path.relative(ROOT, tree.dir) || '.'} (measuring what it emitted):\n${(result.stdout + result.stderr).trim().split('\n').slice(0, 5).join('\n')}`);
  if (!existsSync(path.join(tree.dir, 'dist', 'cli', 'run.js'))) throw new Error(`no dist/cli/run.js in ${tree.dir} after the build`);
  if (commit) writeFileSync(stamp, commit);
}
