// Runs the real Claude Code CLI (`@anthropic-ai/claude-code`, a native binary installed by its
// postinstall from a platform package) in print mode, offline: an empty environment but for what
// it needs, a temporary HOME, no telemetry or update checks, a hard timeout that kills its group.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliWithTimeout, type CliRun } from './cli-run.js';
import { installedVersion } from './clients.js';

export const claudeBin = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));
export const claudeVersion = (): string => installedVersion('@anthropic-ai/claude-code');

/**
 * Fails (never skips) when the binary is missing or is the package's placeholder stub (its
 * postinstall found no platform package): `claude --version` must name the pinned version.
 */
export async function requireClaude(): Promise<string> {
  const want = claudeVersion();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(claudeBin, ['--version'], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${claudeBin} --version failed (is @anthropic-ai/claude-code installed with its platform package? run npm ci): ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
  if (!out.startsWith(want)) throw new Error(`${claudeBin} --version says '${out}', package.json pins ${want}`);
  return out;
}

export type ClaudeRun = CliRun;

export interface ClaudeOptions {
  baseUrl: string;
  model: string;
  prompt: string;
  cwd: string;
  args?: string[];
  timeoutMs?: number;
}

/** `claude -p <prompt> --model <model>` in `cwd`; resolves when it exits or is killed at the timeout. */
export async function runClaude(opts: ClaudeOptions): Promise<ClaudeRun> {
  const home = mkdtempSync(path.join(tmpdir(), 'swapdock-claude-home-'));
  const env = {
    HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_AUTH_TOKEN: 'sk-swapdock-clients',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
  return runCliWithTimeout(claudeBin, ['-p', opts.prompt, '--model', opts.model, ...(opts.args ?? [])], { cwd: opts.cwd, env, timeoutMs: opts.timeoutMs ?? 90_000, cleanup: () => rmSync(home, { recursive: true, force: true }) });
}

/** For assertion messages: what the CLI printed. */
export const describeRun = (run: ClaudeRun): string =>
  `claude exited ${run.code ?? run.signal}${run.timedOut ? ' (killed at the timeout)' : ''}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
