// The example files shipped at the repo root must stay valid as the schema evolves.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import { configSchema, modelSchema } from '../../src/config/schema.js';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));

/** The environment without the variables the examples expand, as on a fresh machine. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.HF_TOKEN;
  delete env.MODELS_DIR;
  return env;
}

for (const file of ['models.yaml', 'compose.models.yaml']) {
  describe(file, () => {
    it('loads with HF_TOKEN unset and has GPU and CPU-only models', async () => {
      const config = await loadConfigFile(root(file), cleanEnv());
      const models = [...config.models.values()];
      assert.ok(models.some((m) => m.gpus !== undefined), 'expected at least one GPU model');
      assert.ok(models.some((m) => m.gpus === undefined), 'expected at least one CPU-only model');
      for (const model of models) {
        if ('HF_TOKEN' in model.env) assert.equal(model.env.HF_TOKEN, '', `${model.id}: HF_TOKEN falls back to ""`);
      }
    });
  });
}

describe('models.yaml documents the schema', () => {
  it('uses every top-level key and every model key at least once', async () => {
    const raw = parse(await readFile(root('models.yaml'), 'utf8')) as Record<string, unknown> & {
      models: Record<string, Record<string, unknown>>;
    };
    // `engines:` (a pool) replaces `engine:` and `gpus:`: it is the commented example below.
    for (const key of Object.keys(configSchema.shape)) if (key !== 'engines') assert.ok(key in raw, `top-level key '${key}' missing`);
    const used = new Set(Object.values(raw.models).flatMap((m) => Object.keys(m)));
    for (const key of Object.keys(modelSchema.shape)) if (key !== 'engines') assert.ok(used.has(key), `no model sets '${key}'`);
    const gpuForms = new Set<string>(Object.values(raw.models).map((m) => (Array.isArray(m.gpus) ? 'ids' : typeof m.gpus)));
    for (const form of ['string', 'number', 'ids']) assert.ok(gpuForms.has(form), `gpus written as ${form} missing`);
  });

  it('shows a pool (engines:) in a commented example that loads and uses every key of an engines entry and models.*.engines', async () => {
    const text = await readFile(root('models.yaml'), 'utf8');
    const lines = text.split('\n');
    const start = lines.indexOf('# engines:');
    assert.ok(start > 0, 'a commented `# engines:` example');
    const block: string[] = [];
    for (const line of lines.slice(start)) {
      if (!line.startsWith('#')) break;
      block.push(line.replace(/^# ?/, ''));
    }
    const example = block.join('\n');
    const config = parseConfigText(example, 'the engines example of models.yaml', { GHCR_TOKEN: 'token-from-env' });
    assert.equal(config.pool, true);
    assert.deepEqual(config.engines.map((e) => e.name), ['tower', 'rack']);
    const raw = parse(example) as { engines: Record<string, unknown>[]; models: Record<string, Record<string, unknown>> };
    const entryKeys = new Set(raw.engines.flatMap((e) => Object.keys(e)));
    for (const key of ['name', 'host', 'address', 'tls', 'network', 'registryAuth', 'sleepMemory', 'gpus']) assert.ok(entryKeys.has(key), `no engines entry sets '${key}'`);
    assert.ok(Object.values(raw.models).some((m) => 'engines' in m), 'no model of the example sets engines');
  });
});

describe('compose.example.yaml', () => {
  type Service = { environment?: Record<string, string> | string[]; volumes?: string[]; networks?: string[] | object };
  const load = async () =>
    parse(await readFile(root('compose.example.yaml'), 'utf8')) as {
      services: Record<string, Service>;
      networks: Record<string, { name?: string }>;
    };
  const envOf = (service: Service): Record<string, string> =>
    Array.isArray(service.environment)
      ? Object.fromEntries(service.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
      : { ...service.environment };

  it('has the swapdock and open-webui services', async () => {
    const compose = await load();
    assert.ok(compose.services.swapdock, 'service swapdock');
    assert.ok(compose.services['open-webui'], 'service open-webui');
  });

  it("points Open WebUI at the swapdock service's /v1 on the port compose.models.yaml listens on", async () => {
    const compose = await load();
    const url = new URL(envOf(compose.services['open-webui']!).OPENAI_API_BASE_URL ?? 'missing:');
    assert.equal(url.hostname, 'swapdock');
    assert.equal(url.pathname.replace(/\/$/, ''), '/v1');
    const config = await loadConfigFile(root('compose.models.yaml'), cleanEnv());
    assert.equal(url.port, config.listen.split(':').pop());
  });

  it('mounts the engine socket and compose.models.yaml, and names the network engine.network uses', async () => {
    const compose = await load();
    const volumes = compose.services.swapdock!.volumes ?? [];
    assert.ok(volumes.some((v) => v.endsWith(':/var/run/docker.sock')), 'engine socket mounted');
    assert.ok(volumes.some((v) => /compose\.models\.yaml:\/config\/models\.yaml(:ro)?$/.test(v)), 'config mounted');
    const config = await loadConfigFile(root('compose.models.yaml'), cleanEnv());
    assert.equal(config.engines[0]!.network, 'swapdock');
    const names = Object.entries(compose.networks).map(([key, n]) => n?.name ?? key);
    assert.ok(names.includes(config.engines[0]!.network), `a compose network is named '${config.engines[0]!.network}'`);
  });
});
