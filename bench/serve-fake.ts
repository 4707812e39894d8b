// swapdock with a FakeRuntime, for bench/proxy-overhead.ts (or by hand): no engine needed, the
// model is bench/fake-backend.mjs (the tests' fake-model server) as a child process.
//
//   node --import tsx bench/serve-fake.ts [--listen 127.0.0.1:0] [--log-level info] > /dev/null
//
// stdout: swapdock's log, built exactly as `swapdock serve` builds it (createLogger: JSON, level
//         info, asynchronous writes): one line per request, as users run it. Send it to /dev/null
//         or a file.
// stderr: once the model is warm, one JSON line {url, model, backendUrl, backendPid, proxyPid}.
// SIGTERM / SIGINT: shuts swapdock down, which stops the backend.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from '../src/cli/start-server.js';
import { parseConfigText } from '../src/config/load-config.js';
import { createLogger } from '../src/util/logger.js';
import { FakeRuntime } from '../test/support/fake-runtime.js';

const BENCH_MODEL = 'fake';

export interface ServeFakeReady {
  url: string;
  model: string;
  backendUrl: string;
  backendPid: number;
  proxyPid: number;
}

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    // Only for experiments (what does logging cost?); the bench measures the default.
    'log-level': { type: 'string', default: 'info' },
  },
});

const config = parseConfigText(
  `
instance: bench
models:
  ${BENCH_MODEL}:
    image: fake-model:latest
    ttl: 0   # never stopped for idleness during a run
`,
  'bench config',
  {},
);
config.listen = args.listen!;

const runtime = new FakeRuntime({ serverPath: fileURLToPath(new URL('./fake-backend.mjs', import.meta.url)) });
const log = createLogger({ level: args['log-level'], format: 'json' });
const running = await startServer({ config, log, runtime });

// The first request starts the model's process; the bench wants it running before it measures.
const warm = await fetch(`${running.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
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
