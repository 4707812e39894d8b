// `swapdock ps | load | unload | logs | schema` run as a user runs them (a child process of the
// CLI) against a real listening swapdock with the fake runtime: tables and --json, models by id
// and alias, an unknown model, following logs until Ctrl-C or until the server goes, where the
// URL comes from (--url > SWAPDOCK_URL > the listen of --config > models.yaml), and the key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildServer, chat, waitFor } from '../support/app-harness.js';
import { cliEntry } from '../support/cli.js';

type Server = Awaited<ReturnType<typeof buildServer>>;

/** Settings a test must not inherit from the shell that runs it. */
const CLEAN_ENV = { SWAPDOCK_URL: '', SWAPDOCK_API_KEY: '' };

/** tsx by location, so the CLI also starts in a working directory of its own. */
const tsx = import.meta.resolve('tsx');

/** The CLI as a child process; never spawnSync: the server under test runs in this process. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const child = spawn(process.execPath, ['--import', tsx, cliEntry, ...args], { env: { ...process.env, ...CLEAN_ENV, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => ({ stdout, stderr }) };
}
const run = (args: string[], env?: NodeJS.ProcessEnv, cwd?: string) => cli(args, env, cwd).done;

const MODELS = `
instance: app-cli
defaults: { ttl: 0, stopTimeout: 1s }
gpus: [{ id: 0, vram: 24g }]
models:
  chat: { image: fake-model:latest, aliases: [c], gpus: [0], vram: 8g }
  org/embed: { image: fake-model:latest }
`;

let server: Server;
before(async () => {
  server = await buildServer(MODELS, { gpuSupport: true });
});
after(() => server.shutdown());

const statusOf = (id: string) => server.scheduler.snapshotOf(id)!.status;
const hostPort = (url: string) => new URL(url).host;
const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-cli-client-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** A loopback port nothing listens on (it was free a moment ago). */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('swapdock --help and schema', () => {
  it('--help lists ps, load, unload, logs and schema', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const usage of ['swapdock schema', 'swapdock ps [--json]', 'swapdock load MODEL', 'swapdock unload MODEL | --all [--force]', 'swapdock logs MODEL [-f]', 'SWAPDOCK_URL', 'SWAPDOCK_API_KEY']) {
      assert.ok(stdout.includes(usage), usage);
    }
  });

  it('schema prints the JSON Schema that swapdock.schema.json holds', async () => {
    const { code, stdout } = await run(['schema']);
    assert.equal(code, 0);
    assert.equal(stdout, readFileSync(fileURLToPath(new URL('../../swapdock.schema.json', import.meta.url)), 'utf8'));
    assert.equal(JSON.parse(stdout).$schema, 'http://json-schema.org/draft-07/schema#');
  });

  it('an option another command takes, or none does, is refused with exit 2', async () => {
    const [foreign, unknown] = await Promise.all([run(['ps', '--force', '--url', server.url]), run(['ps', '--bogus'])]);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /^swapdock ps does not take --force\. Run swapdock --help/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Unknown option '--bogus'\. Run swapdock --help/);
  });
});

describe('swapdock ps', () => {
  it('prints a table of every model: state, devices, VRAM, in flight, queued, last used; and the GPUs', async () => {
    await server.scheduler.unloadAll();
    const { code, stdout, stderr } = await run(['ps', '--url', server.url]);
    assert.equal(code, 0, stderr);
    const [header, ...rows] = stdout.split('\n');
    assert.match(header!, /^MODEL\s+STATE\s+DEVICES\s+VRAM\s+IN FLIGHT\s+QUEUED\s+LAST USED$/);
    assert.match(rows[0]!, /^chat\s+stopped\s+-\s+8 GiB\s+0\s+0\s+never$/);
    assert.match(rows[1]!, /^org\/embed\s+stopped\s+CPU\s+-\s+0\s+0\s+never$/);
    assert.match(stdout, /^GPU\s+IN USE\s+TOTAL\s+MODELS\n0\s+0\s+24 GiB\s+-$/m);

    assert.equal((await run(['load', 'chat', '--url', server.url])).code, 0);
    const loaded = await run(['ps', '--url', server.url]);
    assert.match(loaded.stdout, /^chat\s+ready\s+0\s+8 GiB\s+0\s+0\s+(just now|\d+s ago)$/m);
    assert.match(loaded.stdout, /^0\s+8 GiB\s+24 GiB\s+chat$/m);
  });

  it('--json prints GET /api/models as the server sends it', async () => {
    const { code, stdout } = await run(['ps', '--json', '--url', server.url]);
    assert.equal(code, 0);
    const printed = JSON.parse(stdout);
    const api = (await (await fetch(`${server.url}/api/models`)).json()) as { models: { id: string; status: string }[] };
    assert.deepEqual(printed.models.map((m: { id: string; status: string }) => [m.id, m.status]), api.models.map((m: { id: string; status: string }) => [m.id, m.status]));
    assert.deepEqual(Object.keys(printed), Object.keys(api));
    for (const key of ['status', 'devices', 'vramBytes', 'inFlight', 'queued', 'lastUsedAt', 'aliases']) assert.ok(key in printed.models[0], key);
  });
});

describe('swapdock load and unload', () => {
  it('loads a model named by its alias and waits until it is ready', async () => {
    await server.scheduler.unloadAll();
    const { code, stdout } = await run(['load', 'c', '--url', server.url]);
    assert.equal(code, 0);
    assert.match(stdout, /^Loaded chat \(alias c\) in \d+(\.\d)? m?s: ready\.$/m);
    assert.equal(statusOf('chat'), 'ready');
    assert.match((await run(['load', 'chat', '--url', server.url])).stdout, /chat was already loaded \(ready\)/);
    const json = JSON.parse((await run(['load', 'org/embed', '--json', '--url', server.url])).stdout);
    assert.deepEqual([json.model, json.action, json.status], ['org/embed', 'load', 'ready']);
  });

  it('unloads one model, and says so when it was not loaded', async () => {
    await server.scheduler.load('org/embed');
    const { code, stdout } = await run(['unload', 'org/embed', '--url', server.url]);
    assert.equal(code, 0);
    assert.match(stdout, /^Unloaded org\/embed in .*: stopped\.$/m);
    assert.equal(statusOf('org/embed'), 'stopped');
    assert.match((await run(['unload', 'org/embed', '--url', server.url])).stdout, /org\/embed was not loaded \(stopped\)/);
  });

  it('unload --force cuts the request in flight; without it the request finishes first', async () => {
    const streamed = async (force: boolean) => {
      const res = await fetch(`${server.url}/v1/chat/completions`, chat('chat', { stream: true, fake_chunks: 20, fake_chunk_delay_ms: 100 }));
      const body = res.text().catch((err: Error) => `(cut: ${err.message})`);
      await waitFor(() => server.scheduler.snapshotOf('chat')!.inFlight === 1, 10_000, 'the request in flight');
      const unloaded = await run(['unload', 'chat', ...(force ? ['--force'] : []), '--url', server.url]);
      assert.equal(unloaded.code, 0, unloaded.stderr);
      assert.equal(statusOf('chat'), 'stopped');
      return { stdout: unloaded.stdout, body: await body };
    };
    const forced = await streamed(true);
    assert.match(forced.stdout, /forced: requests in flight were cut/);
    assert.doesNotMatch(forced.body, /\[DONE\]/);
    const drained = await streamed(false);
    assert.match(drained.body, /\[DONE\]/);
  });

  it('unload --all stops every loaded model (--force too)', async () => {
    for (const force of [false, true]) {
      await server.scheduler.load('chat');
      await server.scheduler.load('org/embed');
      const { code, stdout } = await run(['unload', '--all', ...(force ? ['--force'] : []), '--url', server.url]);
      assert.equal(code, 0);
      assert.match(stdout, force ? /^Unloaded chat, org\/embed \(forced: requests in flight were cut\)\.$/m : /^Unloaded chat, org\/embed\.$/m);
      assert.deepEqual([statusOf('chat'), statusOf('org/embed')], ['stopped', 'stopped']);
    }
    assert.match((await run(['unload', '--all', '--url', server.url])).stdout, /No model was loaded/);
  });

  it('a wrong command line exits 2 and says how to write it', async () => {
    const cases: [string[], RegExp][] = [
      [['unload'], /unload needs the model to act on: swapdock unload MODEL \| --all/],
      [['unload', 'chat', '--all'], /a MODEL or --all, not both/],
      [['load'], /load needs the model/],
      [['load', 'chat', 'org/embed'], /takes one model/],
      [['ps', 'chat'], /takes no model/],
    ];
    const results = await Promise.all(cases.map(([args]) => run([...args, '--url', server.url])));
    cases.forEach(([args, message], i) => {
      assert.equal(results[i]!.code, 2, args.join(' '));
      assert.match(results[i]!.stderr, message);
    });
  });
});

describe('an unknown model', () => {
  it('load, unload, logs and logs -f exit 1 naming it and the models that exist', async () => {
    const commands = [['load', 'nope'], ['unload', 'nope'], ['unload', 'nope', '--force'], ['logs', 'nope'], ['logs', 'nope', '-f']];
    const results = await Promise.all(commands.map((args) => run([...args, '--url', server.url])));
    results.forEach(({ code, stdout, stderr }, i) => {
      assert.equal(code, 1, commands[i]!.join(' '));
      assert.equal(stdout, '');
      assert.equal(stderr.trim(), `swapdock at ${server.url} has no model 'nope'. Its models: chat (alias c), org/embed.`);
    });
  });
});

describe('swapdock logs', () => {
  it("prints the model's container output, and --json one object per line", async () => {
    await server.scheduler.load('chat');
    const { code, stdout } = await run(['logs', 'chat', '--url', server.url]);
    assert.equal(code, 0);
    assert.match(stdout, /^fake-model: starting/m);
    assert.match(stdout, /^fake-model: listening on/m);
    const lines = (await run(['logs', 'c', '--json', '--url', server.url])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2);
    for (const line of lines) assert.deepEqual(Object.keys(line).sort(), ['at', 'line', 'stream']);
    assert.ok(lines.some((l) => /listening on/.test(l.line) && l.stream === 'stdout'));
  });

  it('-f prints the history, then new lines as they come, and ends with exit 0 on Ctrl-C', async () => {
    await server.scheduler.load('chat');
    const follow = cli(['logs', 'chat', '-f', '--url', server.url]);
    await waitFor(() => /listening on/.test(follow.output().stdout), 15_000, 'the history');
    const res = await fetch(`${server.url}/v1/chat/completions`, chat('chat'));
    assert.equal(res.status, 200);
    await res.text();
    await waitFor(() => /POST \/v1\/chat\/completions 200/.test(follow.output().stdout), 15_000, 'the live request line');
    follow.child.kill('SIGINT');
    const { code, stderr } = await follow.done;
    assert.equal(code, 0);
    assert.equal(stderr, '');
  });

  it('-f ends with exit 1 and says why when swapdock goes away', async () => {
    const own = await buildServer(`instance: app-cli-gone\ndefaults: { ttl: 0, stopTimeout: 1s }\nmodels:\n  m: { image: fake-model:latest }\n`);
    await own.scheduler.load('m');
    const follow = cli(['logs', 'm', '-f', '--url', own.url]);
    await waitFor(() => /listening on/.test(follow.output().stdout), 15_000, 'the history');
    await own.shutdown();
    const { code, stderr } = await follow.done;
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`swapdock at ${own.url} (ended the log stream of 'm'|broke)`));
  });
});

describe('where the CLI finds swapdock', () => {
  it('--url comes before SWAPDOCK_URL', async () => {
    const { code } = await run(['ps', '--url', server.url], { SWAPDOCK_URL: await deadUrl() });
    assert.equal(code, 0);
  });

  it('SWAPDOCK_URL comes before --config', async () => {
    const config = write('dead-listen.yaml', `listen: ${hostPort(await deadUrl())}\nmodels: {}\n`);
    const { code } = await run(['ps', '--config', config], { SWAPDOCK_URL: server.url });
    assert.equal(code, 0);
  });

  it("--config gives its listen address (every interface: connect on loopback), read without expanding the rest", async () => {
    const port = new URL(server.url).port;
    const config = write('listen.yaml', `listen: 0.0.0.0:${port}\nauth: { keys: [{ name: me, key: "\${UNSET_IN_THIS_SHELL}" }] }\nmodels: {}\n`);
    const { code, stdout } = await run(['ps', '--config', config]);
    assert.equal(code, 0);
    assert.match(stdout, /^chat\s/m);
  });

  it('models.yaml of the working directory counts as --config', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'swapdock-cli-cwd-'));
    writeFileSync(path.join(cwd, 'models.yaml'), `listen: \${SD_LISTEN:-${hostPort(server.url)}}\nmodels: {}\n`);
    const { code } = await run(['ps'], {}, cwd);
    assert.equal(code, 0);
  });

  it('nothing answering: exit 1 with the address and what to do', async () => {
    const dead = await deadUrl();
    const { code, stderr } = await run(['ps'], { SWAPDOCK_URL: dead });
    assert.equal(code, 1);
    assert.equal(stderr.trim(), `swapdock is not answering at ${dead} (connection refused). Start it with \`swapdock serve\`, or point --url / SWAPDOCK_URL at it.`);
  });

  it('a --config that is missing is an error, not a silent default', async () => {
    const { code, stderr } = await run(['ps', '--config', path.join(dir, 'nope.yaml')]);
    assert.equal(code, 1);
    assert.match(stderr, /Cannot tell where swapdock listens from .*nope\.yaml: the file does not exist\..*--url or SWAPDOCK_URL/);
  });
});

describe('the API key', () => {
  const adminKey = randomBytes(24).toString('hex');
  const userKey = randomBytes(24).toString('hex');
  let secured: Server;
  before(async () => {
    secured = await buildServer(`instance: app-cli-keys
auth:
  keys:
    - { name: admin, key: "${adminKey}", admin: true }
    - { name: user, key: "${userKey}" }
models:
  m: { image: fake-model:latest }
`);
  });
  after(() => secured.shutdown());

  it('comes from SWAPDOCK_API_KEY', async () => {
    const { code, stdout } = await run(['ps', '--url', secured.url], { SWAPDOCK_API_KEY: adminKey });
    assert.equal(code, 0);
    assert.match(stdout, /^m\s+stopped/m);
  });

  it('missing, wrong or not an admin key: exit 1 naming SWAPDOCK_API_KEY', async () => {
    const cases: [string, RegExp][] = [
      ['', /needs an API key, and SWAPDOCK_API_KEY is not set\. Set it to an admin key/],
      ['not-the-key-0123456789', /refused the key in SWAPDOCK_API_KEY: it matches none of its auth\.keys/],
      [userKey, /refused the key in SWAPDOCK_API_KEY: it is not an admin key/],
    ];
    const results = await Promise.all(cases.map(([key]) => run(['ps', '--url', secured.url], { SWAPDOCK_API_KEY: key })));
    results.forEach(({ code, stdout, stderr }, i) => {
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.match(stderr, cases[i]![1]);
      assert.match(stderr, new RegExp(`^swapdock at ${secured.url} `));
    });
  });
});
