// engine.registryAuth: the schema, where pull credentials are found (config, Docker config,
// credential helpers, Podman's auth file), and that the passwords never show: not in
// `swapdock check`, not in logs.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { describeConfig } from '../../src/cli/describe-config.js';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { normalizeRegistry, registryOfImage } from '../../src/config/registry-name.js';
import { findRegistryCredentials } from '../../src/runtime/registry-auth.js';
import { LOG_REDACTION } from '../../src/util/logger.js';

const SECRET = 'pa55-Word-that-must-not-leak';
const MODELS = 'models:\n  m: { image: "registry.example.com:5000/team/m:1", port: 8000 }\n';

function problems(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfigText(text, 'test.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-regauth-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** An environment whose Docker config is `config` (and nothing else of this machine leaks in). */
function envWithDockerConfig(config: object | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = tempDir();
  if (config) writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return { DOCKER_CONFIG: dir, HOME: dir, PATH: process.env.PATH, ...extra };
}

describe('registry names', () => {
  it('reads the registry of an image reference the way Docker does', () => {
    assert.equal(registryOfImage('nginx'), 'docker.io');
    assert.equal(registryOfImage('vllm/vllm-openai:latest'), 'docker.io');
    assert.equal(registryOfImage('ghcr.io/ggml-org/llama.cpp:server'), 'ghcr.io');
    assert.equal(registryOfImage('127.0.0.1:5000/fake:1'), '127.0.0.1:5000');
    assert.equal(registryOfImage('localhost/app'), 'localhost');
    assert.equal(registryOfImage('Registry.Example.com:5000/a/b@sha256:abc'), 'registry.example.com:5000');
  });
  it('treats the spellings of Docker Hub and URLs in login files as the same registry', () => {
    for (const v of ['docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io', 'index.docker.io']) assert.equal(normalizeRegistry(v), 'docker.io', v);
    assert.equal(normalizeRegistry('https://registry.example.com:5000/v2/'), 'registry.example.com:5000');
  });
});

describe('engine.registryAuth in the config', () => {
  it('accepts entries, reads the password from the environment, and defaults to none', () => {
    const config = parseConfigText(
      `engine:\n  registryAuth:\n    - { registry: registry.example.com:5000, username: bot, password: "\${REG_PASSWORD}" }\n${MODELS}`,
      'test.yaml',
      { REG_PASSWORD: SECRET },
    );
    assert.deepEqual(config.engines[0]!.registryAuth, [{ registry: 'registry.example.com:5000', username: 'bot', password: SECRET }]);
    assert.deepEqual(parseConfigText(MODELS, 'test.yaml', {}).engines[0]!.registryAuth, []);
  });
  it('rejects unknown keys, an empty password, a registry that is not a host, and the same registry twice', () => {
    const issues = problems(
      `engine:\n  registryAuth:\n    - { registry: "ghcr.io", username: a, password: "" }\n    - { registry: "not a host", username: a, password: b }\n` +
        `    - { registry: "https://index.docker.io/v1/", username: a, password: b, token: c }\n    - { registry: docker.io, username: a, password: b }\n${MODELS}`,
    );
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes('engine.registryAuth.0.password'), JSON.stringify(issues));
    assert.ok(paths.includes('engine.registryAuth.1.registry'), JSON.stringify(issues));
    assert.ok(issues.some((i) => i.path === 'engine.registryAuth.2' && /token/.test(i.message)), JSON.stringify(issues));
    assert.ok(issues.some((i) => i.path === 'engine.registryAuth.3.registry' && /same registry as entry 2/.test(i.message)), JSON.stringify(issues));
  });
  it('shows registries and user names in `swapdock check`, never the password (YAML and JSON)', () => {
    const config = parseConfigText(
      `engine:\n  registryAuth:\n    - { registry: registry.example.com:5000, username: bot, password: "\${REG_PASSWORD}" }\n${MODELS}`,
      'test.yaml',
      { REG_PASSWORD: SECRET },
    );
    for (const json of [false, true]) {
      const text = describeConfig(config, 'models.yaml', json);
      assert.ok(!text.includes(SECRET), text);
      assert.match(text, /registry\.example\.com:5000/);
      assert.match(text, /bot/);
      assert.match(text, /\[redacted\]/);
    }
    const parsed = JSON.parse(describeConfig(config, 'models.yaml', true)) as { engines: { registryAuth: unknown }[] };
    assert.deepEqual(parsed.engines[0]!.registryAuth, [{ registry: 'registry.example.com:5000', username: 'bot', password: '[redacted]' }]);
  });
  it('keeps passwords and engine AuthConfigs out of the logs', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
    const log = pino({ redact: LOG_REDACTION }, sink);
    const config = parseConfigText(`engine:\n  registryAuth:\n    - { registry: r.example.com, username: bot, password: "${SECRET}" }\n${MODELS}`, 'test.yaml', {});
    const pool = parseConfigText(`engines:\n  - { name: a }\n  - name: b\n    registryAuth:\n      - { registry: r.example.com, username: bot, password: "${SECRET}" }\n${MODELS}`, 'test.yaml', {});
    log.info({ config: { engines: config.engines } }, 'config');
    log.info({ engine: config.engines[0] }, 'engine');
    log.info({ config: { engines: pool.engines } }, 'pool config');
    log.info({ engines: pool.engines }, 'pool');
    log.info({ engine: pool.engines[1] }, 'pool engine');
    log.info({ authconfig: { username: 'bot', password: SECRET } }, 'pull');
    log.info({ opts: { authconfig: { password: SECRET } }, password: SECRET }, 'pull');
    assert.equal(out.split('\n').filter(Boolean).length, 7);
    assert.ok(!out.includes(SECRET), out);
  });
});

describe('finding pull credentials', () => {
  const image = 'registry.example.com:5000/team/m:1';

  it('uses engine.registryAuth first, matched by registry', async () => {
    const env = envWithDockerConfig({ auths: { 'registry.example.com:5000': { auth: Buffer.from('file-user:file-pass').toString('base64') } } });
    const configured = [{ registry: 'https://registry.example.com:5000', username: 'bot', password: SECRET }];
    const found = await findRegistryCredentials(image, { configured, env });
    assert.deepEqual(found, { auth: { username: 'bot', password: SECRET, serveraddress: 'registry.example.com:5000' }, source: 'engine.registryAuth' });
    // Another registry's entry does not apply; the current list is read at each call.
    assert.equal(await findRegistryCredentials('ghcr.io/x/y', { configured: () => configured, env }), undefined);
  });

  it("falls back to the Docker config's auths (base64 user:password, identity tokens, Docker Hub's URL key)", async () => {
    const env = envWithDockerConfig({
      auths: {
        'registry.example.com:5000': { auth: Buffer.from('file-user:pa:ss').toString('base64') },
        'https://index.docker.io/v1/': { auth: Buffer.from('hub-user:hub-pass').toString('base64') },
        'ghcr.io': { identitytoken: 'tok' },
      },
    });
    const found = await findRegistryCredentials(image, { env });
    assert.deepEqual(found?.auth, { username: 'file-user', password: 'pa:ss', serveraddress: 'registry.example.com:5000' });
    assert.equal(found?.source, path.join(env.DOCKER_CONFIG!, 'config.json'));
    assert.deepEqual((await findRegistryCredentials('vllm/vllm-openai', { env }))?.auth, { username: 'hub-user', password: 'hub-pass', serveraddress: 'https://index.docker.io/v1/' });
    assert.deepEqual((await findRegistryCredentials('ghcr.io/a/b', { env }))?.auth, { identitytoken: 'tok', serveraddress: 'ghcr.io' });
    assert.equal(await findRegistryCredentials('quay.io/a/b', { env }), undefined);
    assert.equal(await findRegistryCredentials(image, { env: envWithDockerConfig(undefined) }), undefined);
  });

  it("asks the Docker config's credential helper, and says so when it is missing", async () => {
    const bin = tempDir();
    // A helper like docker-credential-pass: reads the server address, answers JSON or "not found".
    writeFileSync(
      path.join(bin, 'docker-credential-fake'),
      '#!/bin/sh\nread server\nif [ "$server" = "registry.example.com:5000" ]; then echo \'{"ServerURL":"x","Username":"helper-user","Secret":"helper-pass"}\'; ' +
        'else echo "credentials not found in native keychain"; exit 1; fi\n',
    );
    chmodSync(path.join(bin, 'docker-credential-fake'), 0o755);
    const env = envWithDockerConfig({ credsStore: 'fake', credHelpers: { 'ghcr.io': 'missing-helper' } }, { PATH: `${bin}:${process.env.PATH}` });
    const found = await findRegistryCredentials(image, { env });
    assert.deepEqual(found, { auth: { username: 'helper-user', password: 'helper-pass', serveraddress: 'registry.example.com:5000' }, source: 'docker-credential-fake' });
    assert.equal(await findRegistryCredentials('quay.io/a/b', { env }), undefined);
    await assert.rejects(findRegistryCredentials('ghcr.io/a/b', { env }), /docker-credential-missing-helper.*not installed/);
  });

  it("reads Podman's auth file ($REGISTRY_AUTH_FILE) when the Docker config has nothing", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'containers'));
    writeFileSync(path.join(dir, 'containers', 'auth.json'), JSON.stringify({ auths: { 'registry.example.com:5000': { auth: Buffer.from('pod:man').toString('base64') } } }));
    const viaXdg = await findRegistryCredentials(image, { env: envWithDockerConfig(undefined, { XDG_RUNTIME_DIR: dir }) });
    assert.deepEqual(viaXdg?.auth, { username: 'pod', password: 'man', serveraddress: 'registry.example.com:5000' });
    const viaVar = await findRegistryCredentials(image, { env: envWithDockerConfig(undefined, { REGISTRY_AUTH_FILE: path.join(dir, 'containers', 'auth.json') }) });
    assert.equal(viaVar?.auth.username, 'pod');
  });

  it('names a Docker config that is not JSON', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'config.json'), '{ not json');
    await assert.rejects(findRegistryCredentials(image, { env: { DOCKER_CONFIG: dir } }), new RegExp(`${dir}/config.json is not valid JSON`));
  });
});
