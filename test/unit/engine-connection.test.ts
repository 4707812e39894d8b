// Where the engine is and where model ports go, without an engine: engine.host / DOCKER_HOST /
// engine.address / engine.tls / ssh:// to dockerode options and the publish address, and the
// config keys that carry them. The scripted-engine tests (docker-runtime-scripted.test.ts) and the
// remote-engine integration test check the same choices on the wire.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { EngineError } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { engineConnection, resolvePublishAddress } from '../../src/runtime/engine-connection.js';

const noEnv = {} as NodeJS.ProcessEnv;

describe('engineConnection: dockerode options and the publish address', () => {
  it('a unix socket publishes on 127.0.0.1', () => {
    const c = engineConnection({ host: 'unix:///run/podman/podman.sock', env: noEnv });
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.target, 'unix:///run/podman/podman.sock');
    assert.deepEqual(c.dockerOptions, { socketPath: '/run/podman/podman.sock', host: undefined });
  });

  it('a tcp:// engine publishes on the host of its URL, as written (never 127.0.0.1)', () => {
    const c = engineConnection({ host: 'tcp://gpu-box:2375', env: noEnv });
    assert.equal(c.address, 'gpu-box');
    assert.equal(c.target, 'tcp://gpu-box:2375');
    assert.deepEqual(c.dockerOptions, {
      host: 'gpu-box', port: '2375', protocol: 'http', socketPath: undefined, ca: undefined, cert: undefined, key: undefined,
    });
    assert.equal(engineConnection({ host: 'tcp://172.31.252.11:2375', env: noEnv }).address, '172.31.252.11');
    assert.equal(engineConnection({ host: 'tcp://[fd00::5]:2375', env: noEnv }).address, 'fd00::5');
  });

  it('engine.address wins over the derived address, for sockets too', () => {
    assert.equal(engineConnection({ host: 'tcp://gpu-box.example:2375', address: '10.1.2.3', env: noEnv }).address, '10.1.2.3');
    assert.equal(engineConnection({ host: 'unix:///var/run/docker.sock', address: '192.0.2.7', env: noEnv }).address, '192.0.2.7');
  });

  it('never publishes on every interface: 0.0.0.0 as host or address is refused with the fix', () => {
    for (const opts of [{ host: 'tcp://0.0.0.0:2375' }, { host: 'tcp://gpu-box:2375', address: '0.0.0.0' }, { host: 'tcp://[::]:2375' }]) {
      assert.throws(() => engineConnection({ ...opts, env: noEnv }), (err) => err instanceof EngineError && /engine\.address/.test(err.message));
    }
  });

  it('DOCKER_HOST: dockerode reads it itself, the address comes from it (with or without a scheme)', () => {
    const c = engineConnection({ env: { DOCKER_HOST: 'tcp://10.9.8.7:2376' } });
    assert.equal(c.dockerOptions, undefined);
    assert.equal(c.address, '10.9.8.7');
    assert.equal(engineConnection({ env: { DOCKER_HOST: 'gpu-box:2375' } }).address, 'gpu-box');
    assert.equal(engineConnection({ env: { DOCKER_HOST: 'unix:///run/x.sock' } }).address, '127.0.0.1');
    assert.equal(engineConnection({ env: { DOCKER_HOST: 'ssh://me@gpu-box' } }).address, 'gpu-box');
  });

  it('ssh://user@host[:port]: docker-modem ssh with the agent, the address is the ssh host', () => {
    const c = engineConnection({ host: 'ssh://ops@gpu-box:2222', env: { SSH_AUTH_SOCK: '/tmp/agent.sock' } });
    assert.equal(c.address, 'gpu-box');
    assert.deepEqual(c.dockerOptions, {
      protocol: 'ssh', host: 'gpu-box', port: 2222, socketPath: undefined, username: 'ops', sshOptions: { agent: '/tmp/agent.sock' },
    });
    const d = engineConnection({ host: 'ssh://gpu-box', env: { SSH_AUTH_SOCK: '/a', HOME: '/nonexistent' } });
    assert.equal((d.dockerOptions as { port?: number }).port, 22);
    assert.equal((d.dockerOptions as { username?: string }).username, undefined);
    // Without an agent, the first default key file is used.
    const home = mkdtempSync(path.join(tmpdir(), 'swapdock-ssh-'));
    try {
      writeFileSync(path.join(home, 'id_rsa'), 'not used'); // wrong dir on purpose: ~/.ssh/ is looked at
      assert.deepEqual((engineConnection({ host: 'ssh://h', env: { HOME: home } }).dockerOptions as { sshOptions?: object }).sshOptions, {});
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('DockerRuntime hands the ssh options to docker-modem', () => {
    const runtime = new DockerRuntime({ host: 'ssh://ops@gpu-box:2222' });
    const modem = (runtime as unknown as { docker: { modem: Record<string, unknown> } }).docker.modem;
    assert.equal(modem.protocol, 'ssh');
    assert.equal(modem.host, 'gpu-box');
    assert.equal(modem.port, 2222);
    assert.equal(modem.username, 'ops');
    assert.equal(runtime.address, 'gpu-box');
    assert.equal(runtime.target, 'ssh://ops@gpu-box:2222');
  });

  it('engine.tls: the PEM files are read at construction and make the connection https (2376 by default)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-tls-'));
    try {
      const tls = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
      for (const [k, f] of Object.entries(tls)) writeFileSync(f, `-----${k}-----\n`);
      const c = engineConnection({ host: 'tcp://gpu-box', tls, env: noEnv });
      const o = c.dockerOptions as { protocol: string; port: number | string; ca: Buffer; cert: Buffer; key: Buffer };
      assert.equal(o.protocol, 'https');
      assert.equal(o.port, 2376);
      assert.deepEqual([o.ca.toString(), o.cert.toString(), o.key.toString()], ['-----ca-----\n', '-----cert-----\n', '-----key-----\n']);
      assert.equal(c.address, 'gpu-box');
      const modem = (new DockerRuntime({ host: 'tcp://gpu-box:2376', tls }) as unknown as { docker: { modem: Record<string, unknown> } }).docker.modem;
      assert.equal(modem.protocol, 'https');
      assert.ok(Buffer.isBuffer(modem.ca) && Buffer.isBuffer(modem.cert) && Buffer.isBuffer(modem.key));
      assert.throws(
        () => engineConnection({ host: 'tcp://gpu-box', tls: { ...tls, key: path.join(dir, 'missing.pem') }, env: noEnv }),
        (err) => err instanceof EngineError && /engine\.tls\.key/.test(err.message) && err.message.includes('missing.pem'),
      );
      assert.throws(() => engineConnection({ host: 'unix:///var/run/docker.sock', tls, env: noEnv }), /engine\.tls is for tcp/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains hosts it does not understand', () => {
    for (const host of ['gpu-box:2375', 'npipe:////./pipe/docker', 'tcp://']) {
      assert.throws(() => engineConnection({ host, env: noEnv }), (err) => err instanceof EngineError && /ssh:\/\/user@host/.test(err.message));
    }
  });
});

describe('resolvePublishAddress', () => {
  it('keeps IPs, resolves names (IPv4 first), explains names that do not resolve', async () => {
    assert.equal(await resolvePublishAddress('172.31.252.11'), '172.31.252.11');
    assert.equal(await resolvePublishAddress('fd00::5'), 'fd00::5');
    assert.equal(await resolvePublishAddress('[fd00::5]'), 'fd00::5');
    assert.equal(await resolvePublishAddress('localhost'), '127.0.0.1');
    await assert.rejects(resolvePublishAddress('no-such-host.invalid'), (err) => err instanceof EngineError && /engine\.address/.test(err.message));
  });
});

describe('config: engine.host, engine.address, engine.tls', () => {
  const load = (engine: string) => parseConfigText(`engine: ${engine}\nmodels: {}\n`, 'test.yaml', {});
  const issues = (engine: string) => {
    try {
      load(engine);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return assert.fail('expected the config to be rejected');
  };

  it('accepts ssh:// hosts, an address and TLS files', () => {
    assert.equal(load('{ host: "ssh://ops@gpu-box" }').engines[0]!.host, 'ssh://ops@gpu-box');
    const c = load('{ host: "tcp://gpu-box:2376", address: 10.0.0.5, tls: { ca: /etc/sd/ca.pem, cert: /etc/sd/cert.pem, key: /etc/sd/key.pem } }');
    assert.equal(c.engines[0]!.address, '10.0.0.5');
    assert.deepEqual(c.engines[0]!.tls, { ca: '/etc/sd/ca.pem', cert: '/etc/sd/cert.pem', key: '/etc/sd/key.pem' });
    assert.equal(load('{ address: "gpu-box.lan" }').engines[0]!.address, 'gpu-box.lan');
    assert.equal(load('{ address: "fd00::5" }').engines[0]!.address, 'fd00::5');
    assert.equal(load('{}').engines[0]!.address, undefined);
  });

  it('rejects every-interface and port-carrying addresses, TLS on sockets and ssh, incomplete TLS', () => {
    assert.match(issues('{ address: 0.0.0.0 }').join('\n'), /engine\.address: never every interface/);
    assert.match(issues('{ address: "gpu-box:2375" }').join('\n'), /engine\.address: write an IP address or host name/);
    assert.match(issues('{ host: "unix:///var/run/docker.sock", tls: { ca: a, cert: b, key: c } }').join('\n'), /engine\.tls: engine\.tls is for tcp/);
    assert.match(issues('{ host: "ssh://gpu-box", tls: { ca: a, cert: b, key: c } }').join('\n'), /engine\.tls/);
    assert.match(issues('{ tls: { ca: a, cert: b } }').join('\n'), /engine\.tls\.key/);
    assert.match(issues('{ host: "gpu-box:2375" }').join('\n'), /ssh:\/\/user@host/);
  });
});
