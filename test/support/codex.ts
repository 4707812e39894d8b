// Runs the real Codex CLI (`@openai/codex`, a native binary from its platform package) as
// `codex exec`, offline: an empty environment but for what it needs, a temporary HOME and
// CODEX_HOME holding a config.toml that names swapdock as its only provider (Responses API, no
// retries, no analytics or update checks), stdin closed, a hard timeout that kills its group.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion } from './clients.js';

export const codexBin = fileURLToPath(new URL('../../node_modules/.bin/codex', import.meta.url));
export const codexVersion = (): string => installedVersion('@openai/codex');

/** The env variable the provider takes its key from (`env_key`). */
const KEY_VARIABLE = 'SWAPDOCK_CODEX_KEY';

/** Fails (never skips) when the binary is missing or not the pinned version: `codex --version` must name it. */
export async function requireCodex(): Promise<string> {
  const want = codexVersion();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(codexBin, ['--version'], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${codexBin} --version failed (is @openai/codex installed with its platform package? run npm ci): ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
  if (!out.endsWith(want)) throw new Error(`${codexBin} --version says '${out}', package.json pins ${want}`);
  return out;
}

export interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface CodexOptions {
  /** swapdock's base URL (without /v1). */
  baseUrl: string;
  model: string;
  prompt: string;
  cwd: string;
  timeoutMs?: number;
}

/** config.toml for a provider that is swapdock's /v1, spoken to with the Responses API. */
function configToml(baseUrl: string, model: string): string {
  return [
    `model = ${JSON.stringify(model)}`,
    'model_provider = "swapdock"',
    'approval_policy = "never"',
    'sandbox_mode = "read-only"',
    'check_for_update_on_startup = false',
    '[analytics]',
    'enabled = false',
    '[model_providers.swapdock]',
    'name = "swapdock"',
    `base_url = ${JSON.stringify(`${baseUrl}/v1`)}`,
    `env_key = "${KEY_VARIABLE}"`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
}

/** `codex exec <prompt>` in `cwd` against swapdock; resolves when it exits or is killed at the timeout. */
export async function runCodex(opts: CodexOptions): Promise<CodexRun> {
  const home = mkdtempSync(path.join(tmpdir(), 'swapdock-codex-home-'));
  writeFileSync(path.join(home, 'config.toml'), configToml(opts.baseUrl, opts.model));
  const env = {
    HOME: home,
    CODEX_HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    [KEY_VARIABLE]: 'sk-swapdock-clients',
  };
  const child = spawn(codexBin, ['exec', '--strict-config', '--skip-git-repo-check', '--ephemeral', opts.prompt], {
    cwd: opts.cwd,
    env,
    detached: true, // its own process group: the timeout kills whatever it started too
    stdio: ['ignore', 'pipe', 'pipe'], // stdin closed: exec would otherwise wait to read more of the prompt
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, opts.timeoutMs ?? 90_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve([c, s]));
    });
    return { code, signal, timedOut, stdout, stderr };
  } finally {
    clearTimeout(timer);
    killGroup(); // anything it left behind
    rmSync(home, { recursive: true, force: true });
  }
}

/** For assertion messages: what the CLI printed. */
export const describeRun = (run: CodexRun): string =>
  `codex exited ${run.code ?? run.signal}${run.timedOut ? ' (killed at the timeout)' : ''}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(-3000)}`;
