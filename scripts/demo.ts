// `npm run demo [-- --auto] [-- --listen host:port]`: swapdock on your machine with Docker (or
// Podman) and no GPU. Two fake OpenAI backends (a ~100 MB image built locally, no download)
// stand in for real models. Interactive by default: prints curl commands to try; Ctrl-C stops
// everything. --auto runs the walkthrough itself and exits. The two models may not run together
// (`conflicts`, as two models that each fill the one GPU would), so asking for one swaps the
// other out on any machine; SWAPDOCK_DEMO_GPU=1 instead marks both `gpus: all` (only for engines
// with a GPU runtime) so they swap for their GPU. --ttl sets demo-small's idle TTL in seconds.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { startServer } from '../src/cli/start-server.js';
import { loadConfigFile } from '../src/config/load-config.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_MODEL, MANAGED_BY_VALUE } from '../src/runtime/labels.js';
import { createLogger } from '../src/util/logger.js';
import { ensureFakeModelImage } from '../test/support/fake-model-image.js';

const { values: args } = parseArgs({
  options: { auto: { type: 'boolean', default: false }, listen: { type: 'string', default: '127.0.0.1:8080' }, ttl: { type: 'string', default: '20' } },
});
const gpu = process.env.SWAPDOCK_DEMO_GPU === '1';
const SMALL_TTL_S = Number(args.ttl);
if (!Number.isInteger(SMALL_TTL_S) || SMALL_TTL_S < 1) throw new Error(`--ttl takes whole seconds (1 or more), not '${args.ttl}'`);
const INSTANCE = 'demo';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (text: string) => console.log(`\n\x1b[1;36m==> ${text}\x1b[0m`);
// The pretty logger writes from a worker thread: pause so its lines land before the next step.
const step = async (text: string) => (await sleep(200), say(text));

function findSocket(): string {
  const fromEnv = process.env.DOCKER_HOST;
  if (fromEnv?.startsWith('unix://')) return fromEnv.slice('unix://'.length);
  if (fromEnv) throw new Error(`The demo needs a local engine socket; DOCKER_HOST=${fromEnv} is not unix://`);
  const found = ['/var/run/docker.sock', '/run/podman/podman.sock'].find((p) => existsSync(p));
  if (!found) throw new Error('No container engine socket found (/var/run/docker.sock, /run/podman/podman.sock). Start Docker or `podman system service --time=0` first.');
  return found;
}

const socketPath = findSocket();
const docker = new Docker({ socketPath });
await docker.ping().catch((err: Error) => {
  throw new Error(`The engine at ${socketPath} does not answer (${err.message}). Is Docker running?`);
});
say(`Building the fake model image on ${socketPath} (cached after the first run)…`);
const image = await ensureFakeModelImage({ socketPath });

// Both models run the same fake server; they differ in load time and streaming speed.
const fakeModel = (name: string, env: Record<string, string | number>, extra: object) => ({
  image,
  pull: 'never', // built locally just now; there is nothing to pull
  port: 8000,
  env: { FAKE_MODEL_NAME: name, ...env },
  ...(gpu ? { gpus: 'all' } : {}),
  startTimeout: '1m',
  stopTimeout: '5s',
  ...extra,
});
const configDir = mkdtempSync(path.join(tmpdir(), 'swapdock-demo-'));
const configFile = path.join(configDir, 'models.yaml');
writeFileSync(configFile, `# Written by scripts/demo.ts; removed when the demo exits.\n${stringify({
  listen: args.listen,
  instance: INSTANCE,
  shutdownTimeout: '10s',
  engine: { host: `unix://${socketPath}` },
  models: {
    'demo-small': fakeModel('demo-small', { FAKE_READY_DELAY_MS: 1500 }, { ttl: `${SMALL_TTL_S}s`, aliases: ['small'] }),
    'demo-large': fakeModel('demo-large', { FAKE_READY_DELAY_MS: 3000, FAKE_CHUNKS: 12, FAKE_CHUNK_DELAY_MS: 150 }, {
      ttl: '10m',
      aliases: ['large'],
      // Without a GPU runtime: they may not run together, so each swaps the other out.
      ...(gpu ? {} : { conflicts: ['demo-small'] }),
    }),
  },
})}`);
const config = await loadConfigFile(configFile);

const log = createLogger({ format: 'pretty' });
const running = await startServer({ config, log });
const base = running.url;

let stopping: Promise<void> | undefined;
function stop(code: number): Promise<void> {
  return (stopping ??= (async () => {
    await step('Shutting down: stopping and removing the demo containers…');
    try {
      await running.shutdown();
    } catch (err) {
      console.error(`Shutdown failed: ${String(err)}`);
      code = 1;
    }
    rmSync(configDir, { recursive: true, force: true });
    log.flush();
    await sleep(300); // let the pretty-log worker print the last lines
    process.exit(code);
  })());
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

async function showModels(): Promise<Array<{ id: string; state: string }>> {
  const list = (await (await fetch(`${base}/v1/models`)).json()) as { data: Array<{ id: string; state: string; gpu: boolean; alias_of?: string }> };
  const models = list.data.filter((m) => !m.alias_of);
  console.log(`GET /v1/models → ${models.map((m) => `${m.id}: ${m.state}${m.gpu ? ' (gpu)' : ''}`).join(', ')}`);
  return models;
}

async function showContainers(): Promise<void> {
  const label = [`${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`, `${LABEL_INSTANCE}=${INSTANCE}`];
  const list = await docker.listContainers({ all: true, filters: { label } });
  const rows = list.map((c) => `   ${c.Labels[LABEL_MODEL]}  ${c.Names[0]?.replace(/^\//, '')}  ${c.State} (${c.Status})`);
  console.log(`Containers: ${rows.length ? `\n${rows.join('\n')}` : 'none'}`);
}

async function chat(model: string): Promise<void> {
  const started = Date.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] }),
  });
  const body = (await res.json()) as { choices?: Array<{ message: { content: string } }>; error?: { message: string } };
  if (!res.ok) throw new Error(`chat with ${model} failed (${res.status}): ${body.error?.message ?? JSON.stringify(body)}`);
  console.log(`${model} answered in ${Date.now() - started} ms: "${body.choices?.[0]?.message.content}"`);
}

async function stream(model: string): Promise<void> {
  const started = Date.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
  });
  if (!res.ok || !res.body) throw new Error(`stream from ${model} failed (${res.status}): ${await res.text()}`);
  process.stdout.write(`${model} streams (first byte after ${Date.now() - started} ms): `);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const event = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
      process.stdout.write(event.choices?.[0]?.delta?.content ?? '');
    }
  }
  console.log(`\n(done in ${Date.now() - started} ms)`);
}

async function walkthrough(): Promise<void> {
  await step('1. Nothing runs yet: models start on their first request');
  await showModels();
  await showContainers();
  await step('2. Chat with demo-small: a cold start (container start + 1.5 s fake load)');
  await chat('demo-small');
  await step('3. Again: it is ready now, so the answer is immediate');
  await chat('small'); // an alias
  await showModels();
  await showContainers();
  await step(`4. Stream from demo-large: ${gpu ? 'both are GPU models' : 'it conflicts with demo-small (as two models that each fill the one GPU)'}, so demo-small is stopped first: a swap. Look for the "Swapping" log line`);
  await stream('demo-large');
  await showModels();
  await showContainers();
  await step('5. Back to demo-small: it swaps demo-large out again');
  await chat('demo-small');
  await showModels();
  await showContainers();
  await step(`6. Idle TTL: demo-small stops ${SMALL_TTL_S} s after its last response`);
  const deadline = Date.now() + (SMALL_TTL_S + 30) * 1000;
  // Poll the scheduler directly here: fine, and quieter than an HTTP request (and log line) a second.
  while (running.scheduler.snapshotOf('demo-small')?.status !== 'stopped') {
    if (Date.now() > deadline) throw new Error('demo-small did not stop after its TTL');
    await sleep(500);
  }
  await step('demo-small was stopped for being idle');
  await showModels();
  await showContainers();
  await step('Walkthrough complete');
}

const containersCmd = `docker ps --filter label=${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE} --filter label=${LABEL_INSTANCE}=${INSTANCE}`;
if (args.auto) {
  try {
    await walkthrough();
    await stop(0);
  } catch (err) {
    console.error(`\nThe walkthrough failed: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
} else {
  await sleep(200);
  console.log(`
\x1b[1mswapdock demo is running on ${base}\x1b[0m  (config: ${configFile})
Models: demo-small (alias small, idle TTL ${SMALL_TTL_S}s) and demo-large (alias large). They may
not run together (${gpu ? 'both are GPU models, gpus: all' : 'conflicts, as two models that each fill the one GPU'}): asking for one swaps the
other out, and the log says why ("Swapping: …").

Try, in another terminal:
  curl -s ${base}/v1/models
  curl -s ${base}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-small","messages":[{"role":"user","content":"Hello!"}]}'
  curl -sN ${base}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-large","stream":true,"messages":[{"role":"user","content":"Hi"}]}'
  watch -n1 ${containersCmd}

The first request to a model waits for its container to start; demo-small stops again
${SMALL_TTL_S}s after its last response. Ctrl-C stops swapdock and removes its containers.
Run \`npm run demo -- --auto\` to see the whole walkthrough without typing.`);
}
