// Runs the real Codex CLI (`@openai/codex`, a native binary from its platform package) as
// `codex exec`, offline: an empty environment but for what it needs, a temporary HOME and
// CODEX_HOME holding a config.toml that names swapdock as its only provider (Responses API, no
// retries, no analytics or update checks), stdin closed, a hard timeout that kills its group.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliWithTimeout, type CliRun } from './cli-run.js';
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

export type CodexRun = CliRun;

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
  return runCliWithTimeout(codexBin, ['exec', '--strict-config', '--skip-git-repo-check', '--ephemeral', opts.prompt], { cwd: opts.cwd, env, timeoutMs: opts.timeoutMs ?? 90_000, cleanup: () => rmSync(home, { recursive: true, force: true }) });
}

/** For assertion messages: what the CLI printed. */
export const describeRun = (run: CodexRun): string =>
  `codex exited ${run.code ?? run.signal}${run.timedOut ? ' (killed at the timeout)' : ''}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(-3000)}`;
