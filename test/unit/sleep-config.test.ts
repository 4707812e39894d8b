// The config contract for sleeping models: models.*.sleep and engine.sleepMemory — defaults,
// the errors that say what to write, the `swapdock check` warnings, and sleep.adminKey kept secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig } from '../../src/cli/describe-config.js';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { REDACTED, redactedSleep } from '../../src/config/redact.js';
import type { SleepConfig } from '../../src/config/schema.js';
import { hasSleepModeFlag, parseHttpCall, sleepWarnings } from '../../src/config/sleep-schema.js';

const GiB = 1024 ** 3;
const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfigText(yaml, 'test.yaml', env);
const sleepOf = (yaml: string, id = 'm'): SleepConfig | undefined => load(yaml).models.get(id)!.sleep;

/** The config's problems as path → message. */
function problems(yaml: string): Record<string, string> {
  try {
    load(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('expected the config to be rejected');
}

/** One model `m` with these keys (YAML flow mapping body). */
const model = (keys: string) => `models:\n  m: { image: x, ${keys} }\n`;

describe('sleep: resolved settings and defaults', () => {
  it('the example of the contract', () => {
    const config = load(`engine:
  sleepMemory: 64g
models:
  qwen:
    image: vllm/vllm-openai:latest
    command: [--model, Qwen/Qwen3-8B, --enable-sleep-mode]
    gpus: [0]
    vram: 20g
    sleep:
      kind: vllm
      level: 1
      memory: 18g
      vram: 1g
      ttl: 2h
      timeout: 60s
`);
    assert.equal(config.engines[0]!.sleepMemory, 64 * GiB);
    assert.deepEqual(config.models.get('qwen')!.sleep, {
      kind: 'vllm',
      level: 1,
      memoryBytes: 18 * GiB,
      vramBytes: GiB,
      ttlMs: 7_200_000,
      timeoutMs: 60_000,
    });
  });

  it('without sleep a model never sleeps, and engine.sleepMemory is left to the runtime', () => {
    const config = load(model('gpus: 1'));
    assert.equal('sleep' in config.models.get('m')!, false);
    assert.equal(config.engines[0]!.sleepMemory, undefined);
  });

  it('vllm defaults: level 1, host RAM = vram times the GPUs, no VRAM asleep, never stopped, 60 s timeout', () => {
    assert.deepEqual(sleepOf(model('gpus: [0, 1], vram: 20g, sleep: { kind: vllm }')), {
      kind: 'vllm',
      level: 1,
      memoryBytes: 40 * GiB,
      vramBytes: 0,
      ttlMs: 0,
      timeoutMs: 60_000,
    });
    assert.equal(sleepOf(model('gpus: 2, vram: 10g, sleep: { kind: vllm }'))!.memoryBytes, 20 * GiB, 'a count of GPUs');
    assert.equal(sleepOf(`gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }, { id: 2, vram: 24g }]\n${model('gpus: all, vram: 10g, sleep: { kind: vllm }')}`)!.memoryBytes, 30 * GiB, 'all = the listed GPUs');
    assert.equal(sleepOf(model('gpus: all, vram: 10g, sleep: { kind: vllm }'))!.memoryBytes, 10 * GiB, 'all without a GPU list = one GPU');
    assert.equal(sleepOf(model('gpus: 1, sleep: { kind: vllm }'))!.memoryBytes, 0, 'no vram: nothing to go by');
  });

  it('level 2, tabbyapi and http hold no host RAM unless sleep.memory says so', () => {
    assert.equal(sleepOf(model('gpus: 1, vram: 20g, sleep: { kind: vllm, level: 2 }'))!.memoryBytes, 0);
    assert.equal(sleepOf(model('gpus: 1, vram: 20g, sleep: { kind: vllm, level: 2, memory: 2g }'))!.memoryBytes, 2 * GiB);
    const tabby = sleepOf(model('gpus: 1, vram: 20g, sleep: { kind: tabbyapi, adminKey: k, load: { model_name: Q, max_seq_len: 8192 } }'))!;
    assert.deepEqual(tabby, { kind: 'tabbyapi', level: 1, memoryBytes: 0, vramBytes: 0, ttlMs: 0, timeoutMs: 60_000, adminKey: 'k', load: { model_name: 'Q', max_seq_len: 8192 } });
  });

  it('http: requests parsed from "METHOD /path", the status request optional', () => {
    const http = sleepOf(model('gpus: 1, sleep: { kind: http, sleepRequest: "POST /sleep", wakeRequest: "post /wake?full=1", statusRequest: "GET /asleep", ttl: 30m, timeout: 5s }'))!;
    assert.deepEqual(http.sleepRequest, { method: 'POST', path: '/sleep' });
    assert.deepEqual(http.wakeRequest, { method: 'POST', path: '/wake?full=1' });
    assert.deepEqual(http.statusRequest, { method: 'GET', path: '/asleep' });
    assert.deepEqual([http.ttlMs, http.timeoutMs, http.memoryBytes], [1_800_000, 5000, 0]);
    assert.equal('statusRequest' in sleepOf(model('gpus: 1, sleep: { kind: http, sleepRequest: POST /s, wakeRequest: POST /w }'))!, false);
    assert.equal(parseHttpCall('POST sleep'), undefined);
    assert.equal(parseHttpCall('FETCH /sleep'), undefined);
    assert.equal(parseHttpCall('/sleep'), undefined);
  });

  it('adminKey may come from the environment', () => {
    const config = load(model('gpus: 1, sleep: { kind: tabbyapi, adminKey: "${TABBY_ADMIN_KEY}", load: { model_name: Q } }'), { TABBY_ADMIN_KEY: 'from-env' });
    assert.equal(config.models.get('m')!.sleep!.adminKey, 'from-env');
  });
});

describe('sleep: errors say what is wrong and what to write', () => {
  it('keys of another kind', () => {
    const issues = problems(`models:
  v: { image: x, gpus: 1, sleep: { kind: vllm, adminKey: abc, load: { model_name: Q }, sleepRequest: POST /s } }
  t: { image: x, gpus: 1, sleep: { kind: tabbyapi, level: 2, load: { model_name: Q }, wakeRequest: POST /w } }
  h: { image: x, gpus: 1, sleep: { kind: http, sleepRequest: POST /s, wakeRequest: POST /w, statusRequest: GET /a, adminKey: abc } }
`);
    assert.match(issues['models.v.sleep.adminKey']!, /adminKey is for kind tabbyapi, not vllm: remove it, or write kind: tabbyapi/);
    assert.match(issues['models.v.sleep.load']!, /load is for kind tabbyapi, not vllm/);
    assert.match(issues['models.v.sleep.sleepRequest']!, /sleepRequest is for kind http, not vllm/);
    assert.match(issues['models.t.sleep.level']!, /level is for kind vllm, not tabbyapi: remove it/);
    assert.match(issues['models.t.sleep.wakeRequest']!, /wakeRequest is for kind http, not tabbyapi/);
    assert.match(issues['models.h.sleep.adminKey']!, /adminKey is for kind tabbyapi, not http/);
    assert.equal(Object.keys(issues).length, 6, JSON.stringify(issues));
  });

  it('tabbyapi needs load, with model_name', () => {
    assert.match(problems(model('gpus: 1, sleep: { kind: tabbyapi }'))['models.m.sleep.load']!, /kind tabbyapi needs load: the JSON body of POST \/v1\/model\/load.*model_name/);
    assert.match(problems(model('gpus: 1, sleep: { kind: tabbyapi, load: { max_seq_len: 4096 } }'))['models.m.sleep.load']!, /load needs model_name.*e\.g\. load: \{ model_name: /);
  });

  it('http needs sleepRequest and wakeRequest, each written METHOD /path', () => {
    const missing = problems(model('gpus: 1, sleep: { kind: http }'));
    assert.match(missing['models.m.sleep.sleepRequest']!, /kind http needs sleepRequest.*sleepRequest: "POST \/sleep"/);
    assert.match(missing['models.m.sleep.wakeRequest']!, /kind http needs wakeRequest.*wakeRequest: "POST \/wake"/);
    const malformed = problems(model('gpus: 1, sleep: { kind: http, sleepRequest: /sleep, wakeRequest: POST /wake, statusRequest: "GET asleep" }'));
    assert.match(malformed['models.m.sleep.sleepRequest']!, /'\/sleep' is not a request; write METHOD \/path, e\.g\. "POST \/sleep"/);
    assert.match(malformed['models.m.sleep.statusRequest']!, /'GET asleep' is not a request/);
  });

  it('sleep.vram above the model\'s vram, and sleep on a model without GPUs', () => {
    assert.match(problems(model('gpus: 1, vram: 8g, sleep: { kind: vllm, vram: 10g }'))['models.m.sleep.vram']!, /sleep\.vram \(10 GiB\) is more than the model's vram \(8 GiB\).*write at most 8 GiB/);
    assert.match(problems(model('sleep: { kind: vllm }'))['models.m.sleep']!, /no gpus \(it runs on the CPU\): there is nothing to free\. Remove sleep, or add gpus/);
  });

  it('a level, kind, size or timeout that cannot be', () => {
    assert.match(problems(model('gpus: 1, sleep: { kind: vllm, level: 3 }'))['models.m.sleep.level']!, /write 1 \(weights kept in host RAM: fast wake\) or 2/);
    assert.ok(problems(model('gpus: 1, sleep: { kind: sglang }'))['models.m.sleep.kind']);
    assert.match(problems(model('gpus: 1, sleep: { kind: vllm, memory: lots }'))['models.m.sleep.memory']!, /not a size/);
    assert.match(problems(model('gpus: 1, sleep: { kind: vllm, timeout: 0 }'))['models.m.sleep.timeout']!, /fails every call: write e\.g\. 60s/);
    assert.match(problems(model('gpus: 1, sleep: { kind: vllm, memroy: 1g }'))['models.m.sleep']!, /unknown key 'memroy'/);
    assert.match(problems(`engine: { sleepMemory: much }\nmodels: {}\n`)['engine.sleepMemory']!, /not a size/);
  });

  it('never repeats the admin key in an error', () => {
    const issues = problems(model('gpus: 1, sleep: { kind: vllm, adminKey: tabby-admin-secret-1 }'));
    assert.doesNotMatch(JSON.stringify(issues), /tabby-admin-secret-1/);
  });
});

describe('swapdock check: sleep warnings', () => {
  it('a vllm model without --enable-sleep-mode: what is missing, why, what to add', () => {
    const config = load(model('gpus: 1, vram: 8g, command: [--model, Q], sleep: { kind: vllm }'));
    const [warning, ...rest] = sleepWarnings(config);
    assert.equal(rest.length, 0);
    assert.match(warning!, /models\.m: sleep\.kind is vllm but its command lacks --enable-sleep-mode/);
    assert.match(warning!, /vLLM refuses \/sleep without it, so the model would be stopped instead of put to sleep/);
    assert.match(warning!, /Add --enable-sleep-mode to its command/);
    const text = describeConfig(config, 'models.yaml', false);
    assert.match(text, /is valid: 1 model\(s\), 1 warning\(s\)\n# warning: models\.m: sleep\.kind is vllm/);
    assert.deepEqual(JSON.parse(describeConfig(config, 'models.yaml', true)).warnings, [warning]);
  });

  it('the flag in command, in entrypoint, or in a shell command line, counts; other kinds are not asked for it', () => {
    for (const keys of [
      'command: [--model, Q, --enable-sleep-mode]',
      'entrypoint: [vllm, serve, --enable-sleep-mode]',
      'entrypoint: [sh, -c], command: ["vllm serve Q --enable-sleep-mode --port 8000"]',
    ]) {
      assert.deepEqual(sleepWarnings(load(model(`gpus: 1, vram: 8g, ${keys}, sleep: { kind: vllm }`))), [], keys);
    }
    assert.deepEqual(sleepWarnings(load(model('gpus: 1, sleep: { kind: http, sleepRequest: POST /s, wakeRequest: POST /w }'))), []);
    assert.equal(hasSleepModeFlag(['--enable-sleep-mode-x']), false);
    assert.equal(hasSleepModeFlag(['--enable-sleep-mode=true']), true);
  });

  it('sleep.memory of all sleep-capable models above engine.sleepMemory: a warning, not an error', () => {
    const yaml = (limit: string) => `engine: { sleepMemory: ${limit} }
models:
  a: { image: x, gpus: 1, vram: 20g, command: [--enable-sleep-mode], sleep: { kind: vllm } }
  b: { image: x, gpus: 1, sleep: { kind: tabbyapi, load: { model_name: B }, memory: 12g } }
  c: { image: x, gpus: 1, sleep: { kind: http, sleepRequest: POST /s, wakeRequest: POST /w } }
`;
    const [warning, ...rest] = sleepWarnings(load(yaml('24g')));
    assert.equal(rest.length, 0);
    assert.match(warning!, /sleep\.memory of the models that can sleep adds up to 32 GiB \(a 20 GiB, b 12 GiB\), more than engine\.sleepMemory \(24 GiB\)/);
    assert.match(warning!, /Not an error/);
    assert.match(warning!, /Raise engine\.sleepMemory/);
    assert.match(describeConfig(load(yaml('24g')), 'models.yaml', false), /# warning: engine\.sleepMemory: /);
    assert.deepEqual(sleepWarnings(load(yaml('32g'))), [], 'exactly enough');
    assert.deepEqual(sleepWarnings(load(yaml('24g').replace(/^engine.*\n/, ''))), [], 'unset: the runtime decides');
  });

  it('a level-1 vllm model without vram: sleep.memory cannot be guessed', () => {
    const [warning] = sleepWarnings(load(model('gpus: 1, command: [--enable-sleep-mode], sleep: { kind: vllm }')));
    assert.match(warning!, /models\.m: sleep\.memory is 0.*set sleep\.memory/);
    assert.deepEqual(sleepWarnings(load(model('gpus: 1, command: [--enable-sleep-mode], sleep: { kind: vllm, memory: 16g }'))), []);
  });

  it('a valid config without sleep has no warnings', () => {
    assert.deepEqual(JSON.parse(describeConfig(load(model('gpus: 1')), 'models.yaml', true)).warnings, []);
    assert.match(describeConfig(load(model('gpus: 1')), 'models.yaml', false), /is valid: 1 model\(s\)\n/);
  });
});

describe('sleep.adminKey is a secret', () => {
  const config = () =>
    load(model('gpus: 1, sleep: { kind: tabbyapi, adminKey: "${TABBY_ADMIN_KEY}", load: { model_name: Q } }'), { TABBY_ADMIN_KEY: 'tabby-admin-secret-2' });

  it('redactedSleep replaces it and leaves the rest', () => {
    const sleep = config().models.get('m')!.sleep!;
    const shown = redactedSleep(sleep);
    assert.equal(shown.adminKey, REDACTED);
    assert.deepEqual({ ...shown, adminKey: sleep.adminKey }, sleep);
    assert.equal(sleep.adminKey, 'tabby-admin-secret-2', 'the config itself keeps the key');
    assert.equal(redactedSleep({ ...sleep, adminKey: undefined }).adminKey, undefined, 'nothing to hide: nothing shown');
  });

  it('`swapdock check` shows it as [redacted], in text and JSON', () => {
    for (const json of [false, true]) {
      const text = describeConfig(config(), 'models.yaml', json);
      assert.doesNotMatch(text, /tabby-admin-secret-2/);
      assert.match(text, /adminKey.*\[redacted\]/);
      assert.match(text, /model_name.*Q/);
    }
  });
});
