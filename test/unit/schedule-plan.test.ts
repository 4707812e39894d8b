// The scheduler's decisions as one pure function (schedule-plan.ts): a picture of the models in,
// actions out. No runtime, no timers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { GpuBudget } from '../../src/scheduler/gpu-budget.js';
import { noGpuInventory } from '../../src/runtime/gpu-inventory.js';
import { planSchedule, type EngineView, type ModelView, type PlanAction } from '../../src/scheduler/schedule-plan.js';

const G = 1024 ** 3;
const NOW = 1_000_000;

function setup(yaml: string, withInventory = false) {
  const config = parseConfigText(yaml, 'test', {});
  const gpus = new GpuBudget(config, [{ name: 'default', inventory: withInventory ? config.engines[0]!.gpus : undefined, localGpus: false }], noGpuInventory);
  const view = (id: string, fields: Partial<ModelView> = {}): ModelView => {
    const model = config.models.get(id)!;
    const status = fields.status ?? 'stopped';
    // A model that holds something holds it on the one engine.
    const engine = status === 'stopped' || status === 'failed' ? undefined : 'default';
    return { id, model, status, usesGpu: model.gpus !== undefined, engine, devices: [], inFlight: 0, queued: 0, lastUsedAt: 0, waking: false, deferred: false, ...fields };
  };
  const plan = (models: ModelView[], extra: { gpuLoadPending?: boolean; sleepBudget?: number } = {}) =>
    planSchedule({ models, config, gpus, engines: [{ name: 'default', sleepBudget: extra.sleepBudget ?? 64 * G, gpuLoadPending: extra.gpuLoadPending ?? false }], now: NOW });
  return { view, plan };
}

const kinds = (actions: PlanAction[]) => actions.map((a) => `${a.kind} ${a.model}`);
const waiting = (since = NOW - 10) => ({ queued: 1, oldestEnqueuedAt: since });
const EXCLUSIVE = 'swap: { policy: fifo }\nmodels:\n  a: { image: x, gpus: 1, sleep: { kind: vllm, memory: 8g } }\n  b: { image: x, gpus: 1 }\n  c: { image: x, gpus: 1 }\n  cpu: { image: x }\n';

describe('planSchedule', () => {
  it('loads a waiting model that fits, evicting nothing', () => {
    const { view, plan } = setup(EXCLUSIVE);
    const actions = plan([view('a'), view('b', waiting()), view('c'), view('cpu')]);
    assert.deepEqual(kinds(actions), ['load b']);
    const load = actions[0] as Extract<PlanAction, { kind: 'load' }>;
    assert.deepEqual([load.wake, load.placement.evict, load.baseline], [false, [], false]);
  });

  it('evicts an idle model: one that can sleep is put to sleep, one that cannot is stopped', () => {
    const { view, plan } = setup(EXCLUSIVE);
    const [slept] = plan([view('a', { status: 'ready', devices: ['exclusive-gpu'], lastUsedAt: 1 }), view('b', waiting())]) as Extract<PlanAction, { kind: 'load' }>[];
    assert.equal(slept!.placement.evict[0], 'a');
    assert.equal(slept!.releases.get('a')!.kind, 'sleep');
    const [stopped] = plan([view('b', { status: 'ready', devices: ['exclusive-gpu'], lastUsedAt: 1 }), view('a', waiting())]) as Extract<PlanAction, { kind: 'load' }>[];
    assert.equal(stopped!.releases.get('b')!.kind, 'stop');
  });

  it('stops instead of sleeping when engine.sleepMemory has no room', () => {
    const { view, plan } = setup(EXCLUSIVE);
    const [load] = plan([view('a', { status: 'ready', devices: ['exclusive-gpu'], lastUsedAt: 1 }), view('b', waiting())], { sleepBudget: 4 * G }) as Extract<PlanAction, { kind: 'load' }>[];
    assert.equal(load!.releases.get('a')!.kind, 'stop');
  });

  it('starts one GPU load at a time: the oldest waiter first, the next after it (CPU models meanwhile)', () => {
    const { view, plan } = setup(EXCLUSIVE);
    assert.deepEqual(kinds(plan([view('b', waiting(NOW - 5)), view('c', waiting(NOW - 20)), view('cpu', waiting(NOW - 1))])), ['load c', 'load cpu']);
    assert.deepEqual(kinds(plan([view('b', waiting())], { gpuLoadPending: true })), []);
  });

  it('wakes a sleeping model on the GPUs it slept on', () => {
    const { view, plan } = setup('gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 24g }]\nmodels:\n  a: { image: x, gpus: 1, vram: 20g, sleep: { kind: vllm, memory: 8g } }\n', true);
    const [wake] = plan([view('a', { status: 'sleeping', devices: ['1'], sleepingSince: 1, ...waiting() })]) as Extract<PlanAction, { kind: 'load' }>[];
    assert.equal(wake!.wake, true);
    assert.deepEqual(wake!.placement.devices, ['1']);
  });

  it('fifo drains a busy model in the way at once; grouped looks again later', () => {
    const busy = { status: 'ready' as const, devices: ['exclusive-gpu'], inFlight: 1, loadedAt: 1, lastUsedAt: NOW };
    const fifo = setup(EXCLUSIVE);
    const drained = fifo.plan([fifo.view('b', busy), fifo.view('c', waiting())]);
    assert.deepEqual(kinds(drained), ['drain c']);
    assert.deepEqual((drained[0] as Extract<PlanAction, { kind: 'drain' }>).blockers, ['b']);
    const grouped = setup(EXCLUSIVE.replace('policy: fifo', 'policy: grouped, maxWait: 30s'));
    const later = grouped.plan([grouped.view('b', busy), grouped.view('c', waiting())]);
    assert.deepEqual(kinds(later), ['recheck c']);
    assert.ok((later[0] as Extract<PlanAction, { kind: 'recheck' }>).inMs > 0);
  });

  it('rejects a model that cannot fit anywhere, and skips one in crash-loop backoff', () => {
    const { view, plan } = setup('models:\n  p: { image: x, gpus: 1, pinned: true }\n  a: { image: x, gpus: 1 }\n');
    assert.deepEqual(kinds(plan([view('p', { status: 'ready', devices: ['exclusive-gpu'] }), view('a', waiting())])), ['reject a']);
    assert.deepEqual(kinds(plan([view('a', { status: 'failed', deferred: true, ...waiting() })])), []);
  });

  it('with nobody waiting: a model drained for a swap serves again, and a baseline comes back when it fits', () => {
    const { view, plan } = setup('models:\n  base: { image: x, gpus: 1, baseline: true }\n  b: { image: x }\n');
    const actions = plan([view('base'), view('b', { status: 'ready', drainingFor: 'swap' })]);
    assert.deepEqual(kinds(actions), ['undrain b', 'load base']);
    assert.equal((actions[1] as Extract<PlanAction, { kind: 'load' }>).baseline, true);
  });
});

describe('planSchedule over a pool of engines', () => {
  const POOL = [
    'swap: { policy: fifo }',
    'engines:',
    '  - { name: tower, host: "unix:///t.sock", gpus: [{ id: 0, vram: 24g }] }',
    '  - { name: rack, host: "tcp://10.0.0.12:2375", gpus: [{ id: 0, vram: 24g }] }',
    'models:',
    '  a: { image: x, gpus: 1, vram: 20g, sleep: { kind: vllm, memory: 8g } }',
    '  b: { image: x, gpus: 1, vram: 20g }',
    '  c: { image: x, gpus: 1, vram: 20g }',
    '  onlyrack: { image: x, gpus: 1, vram: 20g, engines: [rack] }',
    '',
  ].join('\n');
  function poolSetup() {
    const config = parseConfigText(POOL, 'test', {});
    const gpus = new GpuBudget(config, config.engines.map((e) => ({ name: e.name, inventory: e.gpus, localGpus: false })), noGpuInventory);
    const view = (id: string, fields: Partial<ModelView> = {}): ModelView => {
      const model = config.models.get(id)!;
      return { id, model, status: 'stopped', usesGpu: true, engine: undefined, devices: [], inFlight: 0, queued: 0, lastUsedAt: 0, waking: false, deferred: false, ...fields };
    };
    const plan = (models: ModelView[], engines: { tower?: Partial<EngineView>; rack?: Partial<EngineView> } = {}) =>
      planSchedule({
        models,
        config,
        gpus,
        engines: [
          { name: 'tower', sleepBudget: 64 * G, gpuLoadPending: false, ...engines.tower },
          { name: 'rack', sleepBudget: 64 * G, gpuLoadPending: false, ...engines.rack },
        ],
        now: NOW,
      }) as Extract<PlanAction, { kind: 'load' }>[];
    return { view, plan };
  }
  const on = (engine: string, extra: Partial<ModelView> = {}): Partial<ModelView> => ({ status: 'ready', engine, devices: ['0'], lastUsedAt: 1, ...extra });

  it('loads on another engine instead of evicting, and two GPU loads run at once on two engines', () => {
    const { view, plan } = poolSetup();
    const actions = plan([view('b', waiting(NOW - 20)), view('c', waiting(NOW - 10))]);
    assert.deepEqual(actions.map((a) => [a.kind, a.model, a.placement.engine, a.placement.evict]), [['load', 'b', 'tower', []], ['load', 'c', 'rack', []]]);
  });

  it('a GPU load under way on one engine holds back loads there only', () => {
    const { view, plan } = poolSetup();
    const actions = plan([view('b', waiting())], { tower: { gpuLoadPending: true } });
    assert.deepEqual(actions.map((a) => [a.model, a.placement.engine]), [['b', 'rack']]);
    assert.deepEqual(plan([view('onlyrack', waiting())], { rack: { gpuLoadPending: true } }), [], 'waits for its one engine');
  });

  it('an evicted model sleeps within the sleepMemory of its own engine', () => {
    const { view, plan } = poolSetup();
    const models = [view('a', on('rack')), view('b', on('tower', { inFlight: 1 })), view('onlyrack', waiting())];
    assert.equal(plan(models, { rack: { sleepBudget: 4 * G } })[0]!.releases.get('a')!.kind, 'stop', "rack's budget has no room");
    assert.equal(plan(models, { tower: { sleepBudget: 4 * G } })[0]!.releases.get('a')!.kind, 'sleep', "tower's budget does not matter");
  });

  it('a sleeping model wakes on its own engine, even when another has room', () => {
    const { view, plan } = poolSetup();
    const [wake] = plan([view('a', { status: 'sleeping', engine: 'rack', devices: ['0'], sleepingSince: 1, ...waiting() })]);
    assert.deepEqual([wake!.wake, wake!.placement.engine, wake!.placement.devices], [true, 'rack', ['0']]);
  });

  it('a model bound to an unreachable engine is rejected, naming it', () => {
    const { view, plan } = poolSetup();
    const [reject] = plan([view('onlyrack', waiting())], { rack: { unavailable: 'connection refused' } }) as unknown as Extract<PlanAction, { kind: 'reject' }>[];
    assert.deepEqual([reject!.kind, reject!.unreachable], ['reject', ['rack']]);
  });
});
