// `swapdock logs MODEL [-f] [--json]`: a model's container output as swapdock keeps it. Like
// `docker logs`, the container's stdout goes to stdout and its stderr to stderr; --json prints
// one JSON object per line ({at, stream, line}) on stdout. -f follows until Ctrl-C (exit 0) or
// until swapdock ends the stream (exit 1, so a script can tell and reconnect).
import { EXIT_FAILURE } from './client-errors.js';
import type { LogLine, ServerClient } from './server-client.js';

export function printLogHistory(lines: LogLine[], json: boolean): void {
  for (const line of lines) writeLine(line, json);
}

export async function followLogs(client: ServerClient, id: string, json: boolean): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  // A reader that went away (`| head`) ends the command as Ctrl-C would.
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onStdoutError);
  try {
    const outcome = await client.followLogs(id, (line) => stop.signal.aborted || writeLine(line, json), stop.signal);
    if (outcome === 'stopped') return 0;
    process.stderr.write(`swapdock at ${client.url} ended the log stream of '${id}' (it stopped or restarted).\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onStdoutError);
  }
}

function writeLine(line: LogLine, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
  else (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.line}\n`);
}
