// `engines:` (several engines as one pool) in the config: how it resolves, what is refused at
// load (both forms at once, names, GPUs and models that fit on no engine they may use), and what
// `swapdock check` shows of it. `engine:` + `gpus:` stays the one engine named 'default'.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig } from '../../src/cli/describe-config.js';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { sleepWarnings } from '../../src/config/sleep-schema.js';

const GiB = 1024 ** 3;
const SECRET = 'rack-registry-password-never-shown';

const ENV = { RACK_PASSWORD: SECRET };
const load = (text: string) => parseConfigText(text, 'test.yaml', ENV);

function problems(text: string): Record<string, string> {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  }
  return assert.fail('expected the config to be rejected');
}

/** tower: one 24g GPU; rack: two 48g GPUs (ids 0 and 1). */
const POOL = `engines:
  - name: tower
    host: unix:///var/run/docker.sock
    gpus: [{ id: 0, vram: 24g }]
  - name: rack
    host: tcp://10.0.0.12:2376
    address: 10.0.0.12
    tls: { ca: /etc/sd/ca.pem, cert: /etc/sd/cert.pem, key: /etc/sd/key.pem }
    network: ""
    registryAuth: [{ registry: ghcr.io, username: bot, password: "\${RACK_PASSWORD}" }]
    sleepMemory: 96g
    gpus: [{ id: 0, vram: 48g }, { id: 1, vram: 48g }]
`;
const withModels = (models: string, engines = POOL) => `${engines}models:\n${models.replace(/^/gm, '  ')}\n`;

describe('engines: a pool', () => {
  it('resolves every entry in config order, with defaults, and keeps each model\'s engines', () => {
    const config = load(withModels('llama: { image: x, gpus: 2, vram: 40g, engines: [rack] }\nanywhere: { image: x }'));
    assert.equal(config.pool, true);
    assert.deepEqual(config.engines, [
      { name: 'tower', host: 'unix:///var/run/docker.sock', network: '', registryAuth: [], gpus: [{ id: '0', vramBytes: 24 * GiB }] },
      {
        name: 'rack',
        host: 'tcp://10.0.0.12:2376',
        address: '10.0.0.12',
        tls: { ca: '/etc/sd/ca.pem', cert: '/etc/sd/cert.pem', key: '/etc/sd/key.pem' },
        network: '',
        registryAuth: [{ registry: 'ghcr.io', username: 'bot', password: SECRET }],
        sleepMemory: 96 * GiB,
        gpus: [{ id: '0', vramBytes: 48 * GiB }, { id: '1', vramBytes: 48 * GiB }],
      },
    ]);
    assert.deepEqual(config.models.get('llama')!.engines, ['rack']);
    assert.equal(config.models.get('anywhere')!.engines, undefined, 'absent = any engine');
    assert.equal('engine' in config, false, 'SwapdockConfig.engine is gone');
    assert.equal('gpus' in config, false, 'SwapdockConfig.gpus is gone');
  });

  it('takes an entry with nothing but a name (GPUs not listed: exclusive there)', () => {
    const config = load('engines: [{ name: solo }]\nmodels: { m: { image: x, gpus: 4, vram: 500g } }\n');
    assert.deepEqual(config.engines, [{ name: 'solo', network: '', registryAuth: [] }]);
    assert.equal(config.pool, true);
  });

  it('refuses engine: or the top-level gpus: beside engines:, saying what to do', () => {
    const issues = problems(`engine: { network: x }\ngpus: [{ id: 0, vram: 24g }]\n${withModels('m: { image: x }')}`);
    assert.match(issues.engine!, /engine and engines cannot both be set.*Move these keys into an entry of engines, or remove engines/);
    assert.match(issues.gpus!, /the top-level gpus and engines cannot both be set.*each engine lists its own gpus/);
    assert.deepEqual(Object.keys(problems(`gpus: [{ id: 0, vram: 24g }]\n${withModels('m: { image: x }')}`)), ['gpus']);
  });

  it('needs at least one engine', () => {
    assert.match(problems('engines: []\nmodels: { m: { image: x } }\n').engines!, /list at least one engine.*engine: instead/);
  });

  it('refuses a name used twice and a name that is not [a-z0-9][a-z0-9_.-]*', () => {
    const issues = problems('engines:\n  - { name: box }\n  - { name: other }\n  - { name: box }\n  - { name: Box }\n  - { name: -x }\nmodels: { m: { image: x } }\n');
    assert.match(issues['engines.2.name']!, /engine name 'box' is already used by engines\[0\]; give each engine its own name/);
    assert.match(issues['engines.3.name']!, /lowercase letters, digits, \., _ and -/);
    assert.match(issues['engines.4.name']!, /start with a lowercase letter or digit/);
    assert.equal(issues['engines.1.name'], undefined);
    assert.match(problems('engines: [{ host: "unix:///x" }]\nmodels: { m: { image: x } }\n')['engines.0.name']!, /required/);
  });

  it('refuses unknown keys and tls on a socket in an entry, as in engine:', () => {
    const issues = problems('engines:\n  - { name: a, host: "unix:///var/run/docker.sock", tls: { ca: a, cert: b, key: c }, hots: x }\nmodels: { m: { image: x } }\n');
    assert.match(issues['engines.0']!, /unknown key 'hots'/);
    assert.match(issues['engines.0.tls']!, /tls is for tcp:\/\/ hosts/);
  });
});

describe('models.*.engines', () => {
  it('must name configured engines, each once, and not be empty', () => {
    const issues = problems(withModels('m: { image: x, engines: [rack, attic, rack] }\nn: { image: x, engines: [] }'));
    assert.match(issues['models.m.engines.1']!, /'attic' is not a configured engine; use a name from engines \(tower, rack\)/);
    assert.match(issues['models.m.engines.2']!, /engine 'rack' is listed twice/);
    assert.equal(issues['models.m.engines.0'], undefined);
    assert.match(issues['models.n.engines']!, /list at least one engine name, or remove engines/);
  });

  it('with engine:, the only name is default', () => {
    assert.deepEqual(load('models: { m: { image: x, engines: [default] } }\n').models.get('m')!.engines, ['default']);
    assert.match(problems('engine: {}\nmodels: { m: { image: x, engines: [rack] } }\n')['models.m.engines.0']!, /with engine: \(one engine\) the only name is default/);
  });
});

describe('placement, per engine', () => {
  it('checks GPU ids per engine: the same id on two engines is fine, twice on one is not', () => {
    load(withModels('m: { image: x }'));
    const twice = POOL.replace('gpus: [{ id: 0, vram: 24g }]', 'gpus: [{ id: 0, vram: 24g }, { id: "0", vram: 24g }]');
    assert.match(problems(withModels('m: { image: x }', twice))['engines.0.gpus.1.id']!, /GPU '0' is listed twice in engine 'tower'/);
  });

  it('finds pinned GPU ids on any engine the model may use, and only there', () => {
    const config = load(withModels('on-rack: { image: x, gpus: [1] }'));
    assert.deepEqual(config.models.get('on-rack')!.gpus, ['1'], 'GPU 1 exists on rack');
    const issues = problems(withModels('tower-only: { image: x, gpus: [1], engines: [tower] }\nnowhere: { image: x, gpus: [7] }'));
    assert.match(issues['models.tower-only.gpus']!, /could never load on the one engine it may use: GPU 1 is not in the gpus of engine 'tower' \(0\)\. Add an engine where it fits to models\.tower-only\.engines/);
    assert.match(issues['models.nowhere.gpus']!, /could never load on any of the 2 engines it may use: GPU 7 is not in the gpus of engine 'tower' \(0\); GPU 7 is not in the gpus of engine 'rack' \(0, 1\)/);
  });

  it('accepts a model that fits on one of its engines, and names each engine where none has room', () => {
    load(withModels('big: { image: x, gpus: 2, vram: 40g }\nwide: { image: x, gpus: all, vram: 40g, engines: [rack] }'));
    const issues = problems(withModels('big-on-tower: { image: x, gpus: 2, vram: 40g, engines: [tower] }\nhuge: { image: x, gpus: 1, vram: 60g }\nthree: { image: x, gpus: 3 }'));
    assert.match(issues['models.big-on-tower.gpus']!, /needs 2 GPUs but engine 'tower' lists 1\. Add an engine where it fits to models\.big-on-tower\.engines/);
    assert.match(issues['models.huge.vram']!, /any of the 2 engines it may use: needs 60 GiB per GPU but GPU 0 of engine 'tower' has 24 GiB; needs 60 GiB per GPU but GPU 0 of engine 'rack' has 48 GiB\. Change its gpus or vram$/);
    assert.match(issues['models.three.gpus']!, /needs 3 GPUs but engine 'tower' lists 1; needs 3 GPUs but engine 'rack' lists 2/);
  });

  it('does not judge an engine whose GPUs are not listed: the model may fit there', () => {
    load('engines:\n  - { name: a, gpus: [{ id: 0, vram: 8g }] }\n  - { name: b }\nmodels: { m: { image: x, gpus: [3], vram: 80g } }\n');
    assert.match(problems('engines:\n  - { name: a, gpus: [{ id: 0, vram: 8g }] }\n  - { name: b }\nmodels: { m: { image: x, gpus: [3], engines: [a] } }\n')['models.m.gpus']!, /GPU 3 is not in the gpus of engine 'a'/);
  });
});

describe('engine: stays one engine named default', () => {
  it('resolves engine: and the top-level gpus to engines[0], not a pool', () => {
    const config = load('engine: { host: "tcp://gpu-box:2375", network: net, sleepMemory: 32g }\ngpus: [{ id: 0, vram: 24g }, { id: 1, vram: 16g }]\nmodels: { m: { image: x } }\n');
    assert.equal(config.pool, false);
    assert.deepEqual(config.engines, [
      { name: 'default', host: 'tcp://gpu-box:2375', network: 'net', registryAuth: [], sleepMemory: 32 * GiB, gpus: [{ id: '0', vramBytes: 24 * GiB }, { id: '1', vramBytes: 16 * GiB }] },
    ]);
  });

  it('without engine: or gpus: is one default engine with its GPUs left to nvidia-smi', () => {
    const config = load('models: { m: { image: x } }\n');
    assert.deepEqual(config.engines, [{ name: 'default', network: '', registryAuth: [] }]);
    assert.equal(config.pool, false);
  });

  it('keeps the messages of one engine: the top-level gpus list and the host', () => {
    const issues = problems('gpus: [{ id: 0, vram: 24g }, { id: 0, vram: 16g }]\nmodels:\n  a: { image: x, gpus: [7] }\n  b: { image: x, gpus: 3 }\n');
    assert.match(issues['gpus.1.id']!, /^GPU '0' is listed twice$/);
    assert.match(issues['models.a.gpus']!, /^GPU 7 is not in the top-level gpus list \(0, 0\)$/);
    assert.match(issues['models.b.gpus']!, /^needs 3 GPUs but the host lists 2$/);
  });
});

describe('sleeping in a pool', () => {
  const sleeper = (extra = '') => `{ image: x, command: [--enable-sleep-mode], gpus: all, vram: 10g, sleep: { kind: vllm }${extra} }`;

  it('counts gpus: all as the most GPUs of an engine it may use for sleep.memory', () => {
    const config = load(withModels(`any: ${sleeper()}\ntower-only: ${sleeper(', engines: [tower]')}`));
    assert.equal(config.models.get('any')!.sleep!.memoryBytes, 20 * GiB, 'rack has 2 GPUs');
    assert.equal(config.models.get('tower-only')!.sleep!.memoryBytes, 10 * GiB, 'tower has 1');
    assert.equal(load(`gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }, { id: 2, vram: 24g }]\nmodels:\n  m: ${sleeper()}\n`).models.get('m')!.sleep!.memoryBytes, 30 * GiB);
  });

  it('warns per engine, counting the sleepers that may run there, as engines[i].sleepMemory', () => {
    const pool = POOL.replace('sleepMemory: 96g', 'sleepMemory: 50g');
    const fits = load(withModels(`a: ${sleeper()}\nb: ${sleeper()}\nc: ${sleeper(', engines: [tower]')}`, pool));
    assert.deepEqual(sleepWarnings(fits), [], 'rack: a and b, 40 GiB of 50 (c sleeps on tower only)');
    const over = load(withModels(`a: ${sleeper()}\nb: ${sleeper()}\nc: ${sleeper(', engines: [rack]')}`, pool));
    const [warning, ...rest] = sleepWarnings(over);
    assert.deepEqual(rest, []);
    assert.match(warning!, /^engines\[1\]\.sleepMemory: the sleep\.memory of the models that can sleep on engine 'rack' adds up to 60 GiB \(a 20 GiB, b 20 GiB, c 20 GiB\), more than engines\[1\]\.sleepMemory \(50 GiB\)\..*Raise engines\[1\]\.sleepMemory/);
  });
});

describe('swapdock check shows the pool', () => {
  const config = () => load(withModels('llama: { image: x, gpus: 2, vram: 40g, engines: [rack] }\nanywhere: { image: x }'));

  it('lists every engine with name, host, address, network, tls, gpus, sleepMemory and redacted registryAuth', () => {
    const shown = JSON.parse(describeConfig(config(), 'models.yaml', true));
    assert.deepEqual(shown.engines.map((e: { name: string }) => e.name), ['tower', 'rack']);
    const [tower, rack] = shown.engines;
    assert.equal(tower.host, 'unix:///var/run/docker.sock');
    assert.equal(tower.address, '127.0.0.1');
    assert.deepEqual(tower.gpus, ['0: 24 GiB']);
    assert.match(tower.sleepMemory, /total memory minus 8 GiB/);
    assert.equal(rack.host, 'tcp://10.0.0.12:2376');
    assert.equal(rack.address, '10.0.0.12');
    assert.match(rack.network, /^none/);
    assert.deepEqual(rack.tls, { ca: '/etc/sd/ca.pem', cert: '/etc/sd/cert.pem', key: '/etc/sd/key.pem' });
    assert.deepEqual(rack.gpus, ['0: 48 GiB', '1: 48 GiB']);
    assert.equal(rack.sleepMemory, '96 GiB');
    assert.deepEqual(rack.registryAuth, [{ registry: 'ghcr.io', username: 'bot', password: '[redacted]' }]);
    assert.equal(shown.engine, undefined);
    assert.equal(shown.gpus, undefined);
  });

  it('shows each model\'s engines and where it is reached on each', () => {
    const shown = JSON.parse(describeConfig(config(), 'models.yaml', true));
    const [llama, anywhere] = shown.models;
    assert.deepEqual(llama.engines, ['rack']);
    assert.deepEqual(llama.container.reachedAt, { rack: '10.0.0.12:<random port> → 8000' });
    assert.deepEqual(anywhere.engines, ['tower', 'rack']);
    assert.deepEqual(Object.keys(anywhere.container.reachedAt), ['tower', 'rack']);
  });

  it('prints the same as YAML, never the password', () => {
    const text = describeConfig(config(), 'models.yaml', false);
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /^engines:\n {2}- name: tower\n/m);
    assert.match(text, /^ {2}- name: rack\n {4}host: tcp:\/\/10\.0\.0\.12:2376\n {4}address: 10\.0\.0\.12\n/m);
    assert.match(text, /^ {4}engines:\n {6}- rack\n/m);
  });

  it('with engine: shows the one engine, named default, and no per-model engines', () => {
    const shown = JSON.parse(describeConfig(load('gpus: [{ id: 0, vram: 24g }]\nmodels: { m: { image: x } }\n'), 'models.yaml', true));
    assert.equal(shown.engines.length, 1);
    assert.equal(shown.engines[0].name, 'default');
    assert.deepEqual(shown.engines[0].gpus, ['0: 24 GiB']);
    assert.equal(shown.models[0].engines, undefined);
    assert.equal(shown.models[0].container.reachedAt, '127.0.0.1:<random port> → 8000');
  });
});
