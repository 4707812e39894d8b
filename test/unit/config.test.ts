import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatSize, parseDurationMs, parseSizeBytes } from '../../src/config/duration.js';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';

function problems(text: string, env: NodeJS.ProcessEnv = {}): { path: string; line?: number; message: string }[] {
  try {
    parseConfigText(text, 'test.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

describe('durations and sizes', () => {
  it('parses units, combinations and plain seconds', () => {
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('10m'), 600_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs(45), 45_000);
    assert.equal(parseDurationMs('0'), 0);
    assert.equal(parseDurationMs('1.5s'), 1500);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['5 minutes', 'm', '', '-3', '10x', '1h 30m']) assert.equal(parseDurationMs(bad), undefined, bad);
    assert.equal(parseDurationMs(-1), undefined);
  });
  it('formats back', () => {
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(1500), '1500ms');
    assert.equal(formatDuration(0), '0');
  });
  it('parses Docker-style sizes', () => {
    assert.equal(parseSizeBytes('8g'), 8 * 1024 ** 3);
    assert.equal(parseSizeBytes('512m'), 512 * 1024 ** 2);
    assert.equal(parseSizeBytes('1GB'), 1024 ** 3);
    assert.equal(parseSizeBytes(1024), 1024);
    assert.equal(parseSizeBytes('lots'), undefined);
  });
  it('formats sizes back, small ones too (limits.maxHeaderSize is 16k)', () => {
    assert.equal(formatSize(48 * 1024 ** 3), '48 GiB');
    assert.equal(formatSize(512 * 1024 ** 2), '512 MiB');
    assert.equal(formatSize(16 * 1024), '16 KiB');
  });
});

describe('loading the config', () => {
  it('applies defaults and per-model overrides', () => {
    const config = parseConfigText(
      `defaults: { ttl: 5m }\nmodels:\n  a: { image: img-a, ttl: 0, stopTimeout: 2s, gpus: 2 }\n  b: { image: img-b }\n`,
      'test.yaml',
      {},
    );
    assert.equal(config.listen, '127.0.0.1:8080');
    assert.equal(config.instance, 'default');
    assert.equal(config.engines[0]!.network, '');
    assert.equal(config.engines[0]!.host, undefined);
    const a = config.models.get('a')!;
    assert.equal(a.ttlMs, 0);
    assert.equal(a.stopTimeoutMs, 2000);
    assert.equal(a.startTimeoutMs, 600_000);
    assert.equal(a.gpus, 2);
    const b = config.models.get('b')!;
    assert.equal(b.ttlMs, 300_000);
    assert.equal(b.port, 8000);
    assert.equal(b.health, '/health');
    assert.equal(b.pull, 'missing');
    assert.deepEqual(b.aliases, []);
    assert.equal(b.memoryBytes, undefined, 'no memory limit by default');
  });

  it('parses a memory limit as bytes and rejects what is not a size', () => {
    const config = parseConfigText(`models:\n  a: { image: x, memory: 512m }\n  b: { image: x, memory: 1073741824 }\n`, 'test.yaml', {});
    assert.equal(config.models.get('a')!.memoryBytes, 512 * 1024 ** 2);
    assert.equal(config.models.get('b')!.memoryBytes, 1024 ** 3);
    const issue = problems(`models:\n  a:\n    image: x\n    memory: plenty\n`).find((i) => i.path === 'models.a.memory');
    assert.ok(issue, 'an issue on models.a.memory');
    assert.match(issue.message, /not a size/);
    assert.equal(issue.line, 4);
  });

  it('accepts the key set of the documented example', () => {
    const config = parseConfigText(
      `listen: 127.0.0.1:9090
engine:
  host: unix:///var/run/docker.sock
  network: ""
defaults: { ttl: 15m, startTimeout: 10m, stopTimeout: 30s }
models:
  qwen-coder:
    image: vllm/vllm-openai:v0.11.0
    command: ["--model", "Qwen/Qwen2.5-Coder-7B-Instruct", "--port", "8000"]
    port: 8000
    env: { HF_TOKEN: "\${HF_TOKEN}" }
    volumes: ["/srv/hf:/root/.cache/huggingface"]
    gpus: all
    health: /health
    ttl: 10m
    startTimeout: 15m
    stopTimeout: 30s
    aliases: [coder]
    upstreamModel: Qwen/Qwen2.5-Coder-7B-Instruct
    shmSize: 8g
    memory: 16g
    pull: missing
`,
      'test.yaml',
      { HF_TOKEN: 'hf_secret' },
    );
    const model = config.models.get('qwen-coder')!;
    assert.equal(model.env.HF_TOKEN, 'hf_secret');
    assert.equal(model.gpus, 'all');
    assert.equal(model.shmSize, 8 * 1024 ** 3);
    assert.equal(model.memoryBytes, 16 * 1024 ** 3, 'memory becomes memoryBytes');
    assert.equal('memory' in model, false);
    assert.equal(model.startTimeoutMs, 900_000);
    assert.equal(config.engines[0]!.host, 'unix:///var/run/docker.sock');
  });

  it('reports every problem with its YAML path and line', () => {
    const issues = problems(`listen: nowhere\nmodels:\n  a:\n    image: x\n    prot: 3\n    ttl: 5 minutes\n    gpus: none\n`);
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.match(byPath.get('listen')!.message, /host:port/);
    assert.equal(byPath.get('listen')!.line, 1);
    assert.match(byPath.get('models.a')!.message, /unknown key 'prot'/);
    assert.match(byPath.get('models.a.ttl')!.message, /not a duration/);
    assert.equal(byPath.get('models.a.ttl')!.line, 6);
    assert.ok(byPath.has('models.a.gpus'));
  });

  it('rejects unknown keys at every level', () => {
    const issues = problems(`lisen: 1.2.3.4:5\nengine: { hots: x }\ndefaults: { tll: 1m }\nmodels: {}\n`);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['', 'defaults', 'engine']);
  });

  it('requires an image and rejects names two models share', () => {
    assert.ok(problems(`models:\n  a: { port: 1 }\n`).some((i) => i.path === 'models.a.image'));
    const clash = problems(`models:\n  a: { image: x, aliases: [b] }\n  b: { image: y }\n`);
    assert.equal(clash[0]!.path, 'models.a.aliases.0');
    assert.match(clash[0]!.message, /already used by model 'b'/);
  });

  it('expands ${ENV}, with defaults, and names unset variables', () => {
    const config = parseConfigText(
      `models:\n  a:\n    image: "\${REGISTRY:-local}/img"\n    env: { T: "\${TOKEN}", E: "\${EMPTY:-}", L: "$\${literal}" }\n`,
      't',
      { TOKEN: 'abc' },
    );
    assert.equal(config.models.get('a')!.image, 'local/img');
    assert.deepEqual(config.models.get('a')!.env, { T: 'abc', E: '', L: '${literal}' });
    const issues = problems(`models:\n  a:\n    image: x\n    env: { T: "\${MISSING_TOKEN}" }\n`);
    assert.equal(issues[0]!.path, 'models.a.env.T');
    assert.match(issues[0]!.message, /MISSING_TOKEN is not set/);
  });

  it('reports YAML syntax errors with a line', () => {
    const issues = problems(`models:\n  a: { image: x\n`);
    assert.match(issues[0]!.message, /YAML syntax/);
    assert.ok(issues[0]!.line);
  });
});

describe('GPU inventory and scheduling keys', () => {
  it('parses inventory, queue, swap and the per-model scheduling keys', () => {
    const config = parseConfigText(
      `gpus: [{ id: 0, vram: 24g }, { id: "1", vram: 24g }]
maxLoaded: 3
queue: { maxWait: 2m, heartbeat: 2s }
swap: { policy: fifo, maxWait: 10s }
models:
  a: { image: x, gpus: 1, vram: 20g, pinned: true, maxConcurrent: 4, maxQueue: 8, conflicts: [b], preload: true }
  b: { image: x, gpus: [1], baseline: true }
`,
      't',
      {},
    );
    assert.deepEqual(config.engines[0]!.gpus, [{ id: '0', vramBytes: 24 * 1024 ** 3 }, { id: '1', vramBytes: 24 * 1024 ** 3 }]);
    assert.equal(config.maxLoaded, 3);
    assert.deepEqual(config.queue, { maxWaitMs: 120_000, heartbeatMs: 2000 });
    assert.deepEqual(config.swap, { policy: 'fifo', maxWaitMs: 10_000 });
    const a = config.models.get('a')!;
    assert.equal(a.vramBytes, 20 * 1024 ** 3);
    assert.deepEqual([a.pinned, a.maxConcurrent, a.maxQueue, a.conflicts, a.preload, a.baseline], [true, 4, 8, ['b'], true, false]);
  });

  it('defaults: grouped swaps, 30 s swap wait, 10 min queue wait, 5 s heartbeat', () => {
    const config = parseConfigText(`models:\n  a: { image: x }\n`, 't', {});
    assert.deepEqual(config.swap, { policy: 'grouped', maxWaitMs: 30_000 });
    assert.deepEqual(config.queue, { maxWaitMs: 600_000, heartbeatMs: 5000 });
    assert.equal(config.engines[0]!.gpus, undefined);
    const a = config.models.get('a')!;
    assert.deepEqual([a.pinned, a.maxConcurrent, a.maxQueue, a.preload, a.baseline], [false, 32, 256, false, false]);
  });

  it('rejects at load what could never be scheduled', () => {
    const issues = problems(`gpus: [{ id: 0, vram: 24g }, { id: 1, vram: 16g }]
models:
  huge: { image: x, gpus: 1, vram: 40g }
  pinned-to-small: { image: x, gpus: [1], vram: 20g }
  too-many: { image: x, gpus: 3 }
  ghost-gpu: { image: x, gpus: [7] }
  cpu-with-vram: { image: x, vram: 1g }
  enemy: { image: x, conflicts: [nobody] }
`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    assert.match(byPath['models.huge.vram']!, /needs 40 GiB per GPU but GPU 0 has 24 GiB/);
    assert.match(byPath['models.pinned-to-small.vram']!, /GPU 1 has 16 GiB; it could never load/);
    assert.match(byPath['models.too-many.gpus']!, /needs 3 GPUs but the host lists 2/);
    assert.match(byPath['models.ghost-gpu.gpus']!, /GPU 7 is not in the top-level gpus list/);
    assert.match(byPath['models.cpu-with-vram.vram']!, /add gpus/);
    assert.match(byPath['models.enemy.conflicts.0']!, /'nobody' is not a configured model/);
  });
});

describe('request shaping keys', () => {
  it('parses params, unlisted and fallback, and rejects a fallback that is not configured', () => {
    const config = parseConfigText(`fallback: a\nmodels:\n  a: { image: x, unlisted: true, params: { set: { max_tokens: 5 }, strip: [seed] } }\n`, 't', {});
    assert.equal(config.fallback, 'a');
    assert.deepEqual(config.models.get('a')!.params, { set: { max_tokens: 5 }, strip: ['seed'] });
    assert.equal(config.models.get('a')!.unlisted, true);
    const issues = problems(`fallback: nobody\nmodels:\n  a: { image: x }\n`);
    assert.equal(issues[0]!.path, 'fallback');
    assert.match(issues[0]!.message, /not a configured model/);
  });
});
