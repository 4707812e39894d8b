// Runs a client CLI (Claude Code, Codex) the way the client tests need: in its own process group,
// stdin closed, output collected, killed with everything it started at a hard timeout.
import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Resolves when `bin` exits or is killed at `timeoutMs`; `cleanup` runs after either. */
export async function runCliWithTimeout(bin: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; cleanup?: () => void }): Promise<CliRun> {
  const child = spawn(bin, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true, // its own process group: the timeout kills whatever it started too
    stdio: ['ignore', 'pipe', 'pipe'], // stdin closed: a CLI would otherwise wait to read more of the prompt
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
  }, opts.timeoutMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve([c, s]));
    });
    return { code, signal, timedOut, stdout, stderr };
  } finally {
    clearTimeout(timer);
    killGroup(); // anything it left behind
    opts.cleanup?.();
  }
}
