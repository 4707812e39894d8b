#!/usr/bin/env node
// Test runner wrapper: node scripts/run-tests.mjs [unit|app|contract|integration|clients ...]
//
// Node 20's `--test` takes no globs, so test files are found here. Fast tiers share one
// (parallel) invocation; integration and then clients (real client programs and SDKs through
// swapdock to containers) each run afterwards in their own serial invocation because their
// files share container engines and host ports. Ends with one line
// "N passed, N failed[, N skipped]" over all invocations and fails if any invocation
// failed or nothing ran at all.
//
// The tiers that use container engines (contract, integration, clients) need the test engines
// of scripts/engines.sh. When one is down they are started here (root only); where that is not
// possible (not root, an engine not installed) those tiers fail, each counted as one failure,
// with one line giving the exact command: never a silent skip. SWAPDOCK_SKIP_INTEGRATION=1
// (outside CI) leaves the engines alone; the tests then skip themselves, saying why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIERS = ['unit', 'app', 'contract', 'integration', 'clients'];
const SERIAL = ['integration', 'clients'];
const FAST = new Set(['unit', 'app', 'contract']);

const args = process.argv.slice(2);
const unknown = args.filter((a) => !TIERS.includes(a));
if (unknown.length > 0) {
  console.error(`run-tests: unknown tier(s) ${unknown.join(', ')}; expected any of: ${TIERS.join(', ')}`);
  process.exit(2);
}
const tiers = args.length > 0 ? TIERS.filter((t) => args.includes(t)) : TIERS;

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  const out = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const filesByTier = Object.fromEntries(tiers.map((t) => [t, findTests(path.join(root, 'test', t))]));
for (const t of tiers) {
  if (filesByTier[t].length === 0) console.log(`run-tests: no test files in test/${t}/`);
}

const ENGINE_TIERS = new Set(['contract', 'integration', 'clients']);
const ENGINES_SCRIPT = path.join(root, 'scripts', 'engines.sh');
// What scripts/engines.sh runs, by the Debian package that brings it.
const ENGINE_PROGRAMS = { dockerd: 'docker.io', podman: 'podman', catatonit: 'catatonit', ip: 'iproute2', curl: 'curl', nsenter: 'util-linux' };

function onPath(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

function enginesUp() {
  return spawnSync('bash', [ENGINES_SCRIPT, 'status'], { cwd: root, encoding: 'utf8' });
}

/** undefined when the engines answer (started here if need be), else the one line saying what to run. */
function ensureEngines() {
  if (process.env.SWAPDOCK_SKIP_INTEGRATION === '1' && process.env.CI !== 'true') return undefined;
  const status = enginesUp();
  if (status.status === 0) return undefined;
  const down = [...status.stdout.matchAll(/^(\S+)\s+down\b/gm)].map((m) => m[1]).join(', ') || 'some';
  const missing = [...new Set(Object.entries(ENGINE_PROGRAMS).filter(([p]) => !onPath(p) && !existsSync(`/usr/sbin/${p}`) && !existsSync(`/usr/bin/${p}`)).map(([, pkg]) => pkg))];
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  if (missing.length > 0) {
    return `container engines not installed (${down} down); run: ${sudo}apt-get install -y ${missing.join(' ')} && ${sudo}bash scripts/engines.sh start all`;
  }
  if (process.getuid?.() !== 0) return `container engines not running (${down}); start them with: sudo bash scripts/engines.sh start all`;
  console.log(`run-tests: container engines down (${down}); starting them: bash scripts/engines.sh start all`);
  const started = spawnSync('bash', [ENGINES_SCRIPT, 'start', 'all'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (started.status === 0 && enginesUp().status === 0) return undefined;
  return `starting the container engines failed (exit ${started.status}; logs in /var/log/swapdock-*.log); retry with: bash scripts/engines.sh start all`;
}

const engineTiers = tiers.filter((t) => ENGINE_TIERS.has(t) && filesByTier[t].length > 0);
const engineProblem = engineTiers.length > 0 ? ensureEngines() : undefined;
const runnable = (t) => !(engineProblem && ENGINE_TIERS.has(t));
let failedTiers = 0;
if (engineProblem) {
  console.error(`run-tests: ${engineTiers.join(', ')}: FAILED, not run: ${engineProblem}`);
  failedTiers = engineTiers.length;
}

const invocations = [];
const fastTiers = tiers.filter((t) => FAST.has(t) && runnable(t));
const fastFiles = fastTiers.flatMap((t) => filesByTier[t]);
if (fastFiles.length > 0) invocations.push({ name: fastTiers.join('+'), files: fastFiles, extra: [] });
for (const t of SERIAL) {
  if (tiers.includes(t) && runnable(t) && filesByTier[t].length > 0) invocations.push({ name: t, files: filesByTier[t], extra: ['--test-concurrency=1'] });
}

// A second reporter writes TAP to a file: its "# pass N" summary lines are stable to parse,
// while the console keeps the readable (and, on a TTY, coloured) spec output.
const tapDir = mkdtempSync(path.join(tmpdir(), 'swapdock-tests-'));
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let anyFailed = false;
let crashed = 0;

function runOne(inv, index) {
  const tapFile = path.join(tapDir, `${index}.tap`);
  const nodeArgs = [
    '--import', 'tsx', '--test',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...inv.extra,
    ...inv.files.map((f) => path.relative(root, f)),
  ];
  console.log(`\nrun-tests: ${inv.name}: ${inv.files.length} file(s)\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        // No report at all: the runner itself died. Counted as a failure below.
      }
      const found = {};
      for (const m of tap.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
        found[m[1]] = Number(m[2]); // the last block is the overall summary
      }
      for (const k of Object.keys(totals)) totals[k] += found[k] ?? 0;
      if (code !== 0 || found.tests === undefined) {
        anyFailed = true;
        if (found.tests === undefined) {
          crashed++;
          console.error(`run-tests: ${inv.name}: no test summary (exit ${code ?? signal}); counting it as failed`);
        }
      }
      resolve();
    });
  });
}

for (const [i, inv] of invocations.entries()) {
  await runOne(inv, i);
}
rmSync(tapDir, { recursive: true, force: true });

const failed = totals.fail + totals.cancelled + crashed + failedTiers;
if (failedTiers > 0) anyFailed = true;
const nothingRan = totals.tests === 0 && crashed === 0 && failedTiers === 0;
if (nothingRan) console.error('run-tests: no tests ran');
console.log(`${totals.pass} passed, ${failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = anyFailed || failed > 0 || nothingRan ? 1 : 0;
