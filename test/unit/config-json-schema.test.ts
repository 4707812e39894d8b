// The config's JSON Schema (`swapdock schema`, swapdock.schema.json) against the server's own
// validation: it takes the files as written (before `${…}` expansion) wherever the server takes
// them once expanded, and refuses what the server refuses: unknown keys, values outside an enum,
// wrong types, malformed durations, sizes, requests and patterns. The schema is checked with an
// independent JSON Schema reader (zod's fromJSONSchema), not with the zod schema it came from.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { DURATION_PATTERN, SIZE_PATTERN, parseDurationMs, parseSizeBytes } from '../../src/config/duration.js';
import { ENV_REFERENCE_PATTERN, expandEnv } from '../../src/config/expand-env.js';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { HTTP_CALL_PATTERN, parseHttpCall } from '../../src/config/sleep-schema.js';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const schema = configJsonSchema();
const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);

/** What an editor with the schema says of the file as written. */
function schemaIssues(yaml: string): string[] {
  const result = validator.safeParse(parse(yaml));
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
const schemaAccepts = (yaml: string) => schemaIssues(yaml).length === 0;

/** What swapdock says of it: expanded with `env`, then validated. */
function serverAccepts(yaml: string, env: NodeJS.ProcessEnv = {}): boolean {
  try {
    parseConfigText(yaml, 'test.yaml', env);
    return true;
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

/** A config with one model `a` (on GPU 0) carrying `lines`, indented as model keys. */
const model = (...lines: string[]) => `models:\n  a:\n    image: fake-model:latest\n${lines.map((l) => `    ${l}\n`).join('')}`;

describe('the JSON Schema of the config', () => {
  it('is what swapdock.schema.json holds (regenerate it with `npm run schema`)', () => {
    assert.equal(readFileSync(root('swapdock.schema.json'), 'utf8'), configJsonSchemaText(), 'swapdock.schema.json is stale: run `npm run schema` and commit it');
  });

  it('is a draft-7 schema that editors show descriptions and defaults from', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const models = schema.properties as Record<string, { additionalProperties: { properties: Record<string, Record<string, unknown>> } }>;
    const pull = models.models!.additionalProperties.properties.pull!;
    assert.equal(pull.default, 'missing');
    assert.match(String(pull.description), /When to pull/);
    assert.deepEqual((pull.anyOf as { enum?: string[] }[])[0]!.enum, ['missing', 'always', 'never']);
  });

  it('is the schema models.yaml names for editors', () => {
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(root('models.yaml'), 'utf8'));
    assert.ok(modeline, 'models.yaml has a yaml-language-server modeline');
    assert.equal(path.resolve(root('.'), modeline[1]!), root('swapdock.schema.json'));
  });

  for (const file of ['models.yaml', 'compose.models.yaml']) {
    it(`accepts ${file} as written (\${…} references unexpanded)`, () => {
      const text = readFileSync(root(file), 'utf8');
      assert.match(text, /\$\{MODELS_DIR:-\/srv\/models\}:\/models:ro|\$\{HF_TOKEN:-\}/, 'the example uses references');
      assert.deepEqual(schemaIssues(text), []);
    });
  }

  it('accepts every config the test suite loads successfully', () => {
    const configs = testSuiteConfigs().filter((yaml) => serverAccepts(yaml));
    assert.ok(configs.length >= 40, `expected many configs from the tests, found ${configs.length}`);
    for (const yaml of configs) assert.deepEqual(schemaIssues(yaml), [], yaml);
  });
});

describe('the schema takes ${…} where the server takes the expanded value', () => {
  const cases: [string, string, NodeJS.ProcessEnv][] = [
    ['a volume whose source is a reference with a fallback', model('volumes: ["${MODELS_DIR:-/srv/models}:/models:ro"]'), {}],
    ['a volume that is one reference', model('volumes: ["${VOLUME}"]'), { VOLUME: '/srv:/models' }],
    ['a duration', model('ttl: ${TTL:-10m}'), {}],
    ['a duration in seconds from the environment', model('startTimeout: ${START}'), { START: '90' }],
    ['a size', model('shmSize: ${SHM:-8g}'), {}],
    ['an enum value', model('pull: ${PULL}'), { PULL: 'always' }],
    ['listen', `listen: \${LISTEN:-0.0.0.0:8080}\n${model()}`, {}],
    ['instance', `instance: \${INSTANCE}\n${model()}`, { INSTANCE: 'prod' }],
    ['engine.host', `engine: { host: "\${ENGINE:-unix:///run/podman/podman.sock}" }\n${model()}`, {}],
    ['a health path', model('health: ${HEALTH_PATH:-/healthz}'), {}],
    ['an env value, plain and secret', model('env: { A: "${A:-}", B: { value: "${B}", secret: true }, C: 1, D: true }'), { B: 'x' }],
    ['a sleep request', model('gpus: 1', 'sleep: { kind: http, sleepRequest: "${SLEEP_CALL}", wakeRequest: "post /wake" }'), { SLEEP_CALL: 'POST /sleep' }],
    ['an API key', `auth: { keys: [{ name: me, key: "\${SWAPDOCK_KEY}", admin: true }] }\n${model()}`, { SWAPDOCK_KEY: 'k'.repeat(24) + '7f3a9' }],
  ];
  for (const [what, yaml, env] of cases) {
    it(what, () => {
      assert.ok(serverAccepts(yaml, env), `the server accepts it with ${JSON.stringify(env)}`);
      assert.deepEqual(schemaIssues(yaml), []);
    });
  }
});

describe('the schema refuses what the server refuses', () => {
  const cases: [string, string][] = [
    ['an unknown model key', model('gpu: all')],
    ['an unknown top-level key', `listne: 127.0.0.1:8080\n${model()}`],
    ['an unknown key in a nested object', model('gpus: 1', 'sleep: { kind: vllm, levle: 1 }')],
    ['a key next to models that is a schema hint', `$schema: ./swapdock.schema.json\n${model()}`],
    ['a pull policy outside the enum', model('pull: sometimes')],
    ['a swap policy outside the enum', `swap: { policy: lifo }\n${model()}`],
    ['an api outside the enum', model('api: grpc')],
    ['a sleep kind outside the enum', model('gpus: 1', 'sleep: { kind: sleepy }')],
    ['a sleep level outside 1 and 2', model('gpus: 1', 'sleep: { kind: vllm, level: 3 }')],
    ['an escaped $${ that leaves a bad enum value', model('pull: "$${PULL}"')],
    ['a number written as a reference (expansion gives a string)', model('port: ${PORT:-8000}')],
    ['a boolean written as a reference', model('pinned: ${PINNED:-true}')],
    ['a number as a string', model('maxConcurrent: "4"')],
    ['a word for a duration', model('ttl: soon')],
    ['a duration with a space inside', model('ttl: 1h 30m')],
    ['a negative duration', model('ttl: -1')],
    ['a word for a size', model('vram: lots')],
    ['a fractional byte count', model('vram: 1.5')],
    ['a volume without a target', model('volumes: [nocolon]')],
    ['a listen address without a host', `listen: "8080"\n${model()}`],
    ['an instance with capitals', `instance: Prod\n${model()}`],
    ['a health path without a slash', model('health: healthz')],
    ['a sleep request without a method', model('gpus: 1', 'sleep: { kind: http, sleepRequest: /sleep, wakeRequest: POST /wake }')],
    ['a sleep request with an unknown method', model('gpus: 1', 'sleep: { kind: http, sleepRequest: FETCH /sleep, wakeRequest: POST /wake }')],
    ['no models', 'listen: 127.0.0.1:8080\n'],
    ['a model id that starts with a dash', 'models:\n  -bad: { image: x }\n'],
    ['zero GPUs', model('gpus: 0')],
    ['an empty GPU list', model('gpus: []')],
    ['a model without an image', 'models:\n  a: { port: 8000 }\n'],
    ['a port out of range', model('port: 70000')],
    ['an engine host without a scheme', `engine: { host: docker.sock }\n${model()}`],
  ];
  for (const [what, yaml] of cases) {
    it(what, () => {
      assert.equal(serverAccepts(yaml, { PORT: '8000', PINNED: 'true' }), false, 'the server refuses it');
      assert.notDeepEqual(schemaIssues(yaml), [], 'the schema refuses it');
    });
  }

  it('leaves to `swapdock check` only the rules across keys its header names', () => {
    const checkOnly: [string, string][] = [
      ['an alias used twice', `models:\n  a: { image: x, aliases: [b] }\n  b: { image: x }\n`],
      ['a fallback that is not a model', `fallback: nope\n${model()}`],
      ['a weak API key', `auth: { keys: [{ name: me, key: changeme }] }\n${model()}`],
      ['sleep on a CPU-only model', model('sleep: { kind: vllm }')],
      ['a sleep key of another kind', model('gpus: 1', 'sleep: { kind: http, level: 2, sleepRequest: POST /s, wakeRequest: POST /w }')],
      ['engine.address on every interface', `engine: { address: 0.0.0.0 }\n${model()}`],
    ];
    for (const [what, yaml] of checkOnly) {
      assert.equal(serverAccepts(yaml), false, `${what}: the server refuses it`);
      assert.deepEqual(schemaIssues(yaml), [], `${what}: beyond a JSON Schema`);
    }
  });
});

describe('the patterns in the schema match the parsers', () => {
  const agree = (pattern: string, parses: (text: string) => boolean, samples: string[]) => {
    const regex = new RegExp(pattern, 'u');
    for (const sample of samples) assert.equal(regex.test(sample), parses(sample), JSON.stringify(sample));
  };

  it('durations', () => {
    agree(DURATION_PATTERN, (s) => parseDurationMs(s) !== undefined, ['30s', '10m', '1h30m', '250ms', '0', '1.5s', '1.5', ' 10m ', '2d', '90', '5 minutes', 'm', '', '-3', '10x', '1h 30m', '10M', '1e3', 's10', '1h30', '.5s']);
  });

  it('sizes', () => {
    agree(SIZE_PATTERN, (s) => parseSizeBytes(s) !== undefined, ['8g', '512m', '1GB', '1gib', '1GiB', '1 GB', '1024', '1.5g', ' 8g ', '64k', '1t', 'lots', '8gg', '-1', '1p', 'g', '', '8 g', '1ib', '1bb']);
  });

  it('sleep requests', () => {
    agree(HTTP_CALL_PATTERN, (s) => parseHttpCall(s) !== undefined, ['POST /sleep', 'post /sleep', 'Get /', '  PUT /a  ', 'DELETE /x?y=1', 'PATCH\t/p', 'FETCH /x', 'POST sleep', 'POST', '/sleep', 'POST /a b', 'POSTS /a', '']);
  });

  it('${…} references', () => {
    // A reference is there when the value depends on the environment.
    const anything = (value: string) => new Proxy({}, { get: () => value }) as NodeJS.ProcessEnv;
    const referenced = (s: string) => expandEnv(s, anything('α')).value !== expandEnv(s, anything('β')).value;
    agree(ENV_REFERENCE_PATTERN, referenced, ['${A}', 'x${A}y', '${A:-/srv}:/m:ro', '${A:-}', '$${A}', '$$${A}', '$$$${A}', 'a$${A}${B}', '${1A}', '${A', '$A', 'plain', '${A-x}', '${A:x}', '${_a9}', '}${A}']);
  });
});

/**
 * The configs written in the test suite's own files: string and template literals (without `${…}`
 * interpolation) that have a `models:` key; the integration tests' {{IMAGE}} is an image name.
 */
function testSuiteConfigs(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts')) files.push(file);
    }
  };
  walk(root('test'));
  const configs = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/`((?:[^`\\]|\\.)*)`|'((?:[^'\\\n]|\\.)*)'/g)) {
      const text = match[1] ?? match[2] ?? '';
      if (!/^\s*models:|\nmodels:/.test(text) || /(?<!\\)\$\{/.test(text)) continue;
      const yaml = text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)).replaceAll('{{IMAGE}}', 'fake-model:latest');
      if (!yaml.includes('{{')) configs.add(yaml);
    }
  }
  return [...configs];
}
