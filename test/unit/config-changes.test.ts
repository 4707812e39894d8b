import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { diffModels, settingsNeedingRestart } from '../../src/scheduler/config-changes.js';

const load = (text: string) => parseConfigText(text, 't', {});

describe('config changes on reload', () => {
  it('sorts models into added, removed, changed and unchanged', () => {
    const before = load(`models:\n  keep: { image: a }\n  drop: { image: a }\n  change: { image: a, ttl: 1m }\n`);
    const after = load(`models:\n  keep: { image: a }\n  change: { image: a, ttl: 2m }\n  added: { image: a }\n`);
    assert.deepEqual(diffModels(before.models, after.models), { added: ['added'], removed: ['drop'], changed: ['change'], unchanged: ['keep'] });
  });

  it('counts a changed default as a change of the models that inherit it', () => {
    const before = load(`defaults: { ttl: 1m }\nmodels:\n  m: { image: a }\n  own: { image: a, ttl: 5m }\n`);
    const after = load(`defaults: { ttl: 2m }\nmodels:\n  m: { image: a }\n  own: { image: a, ttl: 5m }\n`);
    assert.deepEqual(diffModels(before.models, after.models).changed, ['m']);
  });

  it('names the settings that need a restart', () => {
    const before = load(`models: {}\n`);
    const after = load(`listen: 0.0.0.0:9000\ninstance: other\nengine: { network: llm }\nqueue: { maxWait: 1m }\nmodels: {}\n`);
    assert.deepEqual(settingsNeedingRestart(before, after), ['listen', 'instance', 'engine.network']);
    assert.deepEqual(settingsNeedingRestart(before, before), []);
  });

  it('a pool: the engines themselves (names, hosts) and each engine\'s network need a restart; their GPUs do not', () => {
    const pool = (rackHost: string, network = '', vram = '48g') =>
      parseConfigText(`engines:\n  - { name: tower, host: unix:///var/run/docker.sock }\n  - { name: rack, host: '${rackHost}', network: '${network}', gpus: [{ id: 0, vram: ${vram} }] }\nmodels: {}\n`, 'test', {});
    assert.deepEqual(settingsNeedingRestart(pool('tcp://10.0.0.12:2375'), pool('tcp://10.0.0.13:2375')), ['engines (names, hosts, addresses, tls)']);
    assert.deepEqual(settingsNeedingRestart(pool('tcp://10.0.0.12:2375'), pool('tcp://10.0.0.12:2375', 'llm')), ['engines[1].network']);
    assert.deepEqual(settingsNeedingRestart(pool('tcp://10.0.0.12:2375'), pool('tcp://10.0.0.12:2375', '', '24g')), []);
  });
});
