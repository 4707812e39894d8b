// swapdock with a FakeRuntime, for bench/proxy-overhead.ts (or by hand): no engine needed, the
// model is bench/fake-backend.mjs (the tests' fake-model server) as a child process.
//
//   node --import tsx bench/serve-fake.ts [--listen 127.0.0.1:0] [--log-level info] [--models 1]
//        [--backend bench/fake-backend.mjs] > /dev/null
//
// Config: bench/bench-config.ts (an admin API key that every request must send, `--models` models,
// the first one `fake`). Metrics and the event bus are on, as startServer builds them.
// `npm run bench -- --before REF` copies this file and bench-config.ts into REF's tree, so imports
// stay limited to APIs every version has: startServer, parseConfigText, createLogger, FakeRuntime.
//
// stdout: swapdock's log, built exactly as `swapdock serve` builds it (createLogger: JSON, level
//         info, asynchronous writes): one line per request, as users run it. Send it to /dev/null
//         or a file.
// stderr: once the model is warm, one JSON line {url, model, apiKey, backendUrl, backendPid, proxyPid}.
// SIGTERM / SIGINT: shuts swapdock down, which stops the backend.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from '../src/cli/start-server.js';
import { parseConfigText } from '../src/config/load-config.js';
import { createLogger } from '../src/util/logger.js';
import { FakeRuntime } from '../test/support/fake-runtime.js';
import { BENCH_KEY, BENCH_MODEL, benchConfigText } from './bench-config.js';

export interface ServeFakeReady {
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer` by every bench client; absent: no key needed (another --serve proxy). */
  apiKey?: string;
  backendUrl: string;
  backendPid: number;
  proxyPid: number;
}

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    // Only for experiments (what does logging cost?); the bench measures the default.
    'log-level': { type: 'string', default: 'info' },
    // Models configured (the first is the one served); 500 for the GET /v1/models bench.
    models: { type: 'string', default: '1' },
    // The backend script; the before/after bench passes the current one to both versions.
    backend: { type: 'string', default: fileURLToPath(new URL('./fake-backend.mjs', import.meta.url)) },
  },
});

const config = parseConfigText(benchConfigText({ instance: 'bench', models: Number(args.models) }), 'bench config', {});
config.listen = args.listen!;

const runtime = new FakeRuntime({ serverPath: path.resolve(args.backend!) });
const log = createLogger({ level: args['log-level'], format: 'json' });
const running = await startServer({ config, log, runtime });

// The first request starts the model's process; the bench wants it running before it measures.
const warm = await fetch(`${running.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
  body: JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
});
if (warm.status !== 200) throw new Error(`warm-up request failed: ${warm.status} ${await warm.text()}`);
await warm.arrayBuffer();

const containerId = running.scheduler.snapshotOf(BENCH_MODEL)?.containerId;
const container = containerId ? runtime.containers.get(containerId) : undefined;
const endpoint = containerId ? (await runtime.inspect(containerId))?.endpoint : undefined;
if (!container?.child?.pid || !endpoint) throw new Error('the fake model is not running after the warm-up request');

const ready: ServeFakeReady = {
  url: running.url,
  model: BENCH_MODEL,
  apiKey: BENCH_KEY,
  backendUrl: `http://${endpoint.host}:${endpoint.port}`,
  backendPid: container.child.pid,
  proxyPid: process.pid,
};
process.stderr.write(`${JSON.stringify(ready)}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  running
    .shutdown()
    .catch((err) => process.stderr.write(`shutdown failed: ${String(err)}\n`))
    .finally(() => {
      log.flush();
      process.exit(0);
    });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
