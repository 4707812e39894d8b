// Hardening: the warning for an open endpoint, secrets kept out of logs and `swapdock check`,
// malformed HTTP answered with JSON.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { describeConfig } from '../../src/cli/describe-config.js';
import { startServer } from '../../src/cli/start-server.js';
import { LOG_REDACTION } from '../../src/util/logger.js';
import { testConfig } from '../support/app-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';

function capturingLogger(options: pino.LoggerOptions = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'info', ...options }, stream), lines };
}

async function startWith(yaml: string, listen: string) {
  const config = testConfig(yaml);
  config.listen = listen;
  const { log, lines } = capturingLogger();
  const server = await startServer({ config, log, runtime: new FakeRuntime() });
  return { server, lines };
}

describe('hardening', () => {
  it('warns loudly at start-up when it listens beyond loopback without API keys', async () => {
    const open = await startWith('instance: app-warn\nmodels: {}', '0.0.0.0:0');
    await open.server.shutdown();
    const warning = open.lines.map((l) => JSON.parse(l)).find((l) => /SECURITY/.test(l.msg));
    assert.ok(warning, 'a warning was logged');
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /no API keys are configured/);
    assert.match(warning.msg, /auth\.keys/);
    assert.match(warning.msg, /127\.0\.0\.1/);

    for (const [yaml, listen] of [
      ['instance: app-warn\nmodels: {}', '127.0.0.1:0'],
      ['instance: app-warn\nauth: { keys: [{ name: a, key: a1b2c3d4e5f6g7h8 }] }\nmodels: {}', '0.0.0.0:0'],
    ] as const) {
      const quiet = await startWith(yaml, listen);
      await quiet.server.shutdown();
      assert.equal(quiet.lines.filter((l) => /SECURITY/.test(l)).length, 0, `${listen} with ${yaml}`);
    }
  });

  it('logs keys, credentials and env values as [redacted]', () => {
    const { log, lines } = capturingLogger({ redact: LOG_REDACTION });
    log.info({ headers: { authorization: 'Bearer sk-1', 'x-api-key': 'sk-2', cookie: 'swapdock_key=sk-3', accept: '*/*' } }, 'one');
    log.info({ req: { headers: { authorization: 'Bearer sk-4' } }, key: 'sk-5', config: { auth: { keys: [{ name: 'a', key: 'sk-6' }] } } }, 'two');
    log.info({ spec: { env: { HF_TOKEN: 'sk-7' } } }, 'three');
    const text = lines.join('');
    for (let i = 1; i <= 7; i++) assert.doesNotMatch(text, new RegExp(`sk-${i}`));
    assert.match(text, /"accept":"\*\/\*"/);
    assert.match(text, /\[redacted\]/);
  });

  it('logs a tabbyAPI admin key as [redacted], as a key, in a sleep config, in a model and as a header', () => {
    const { log, lines } = capturingLogger({ redact: LOG_REDACTION });
    log.info({ adminKey: 'ak-1' }, 'bare');
    log.info({ sleep: { kind: 'tabbyapi', adminKey: 'ak-2' } }, 'sleep config');
    log.info({ model: { id: 'm', sleep: { kind: 'tabbyapi', adminKey: 'ak-3' } } }, 'model');
    log.info({ headers: { 'x-admin-key': 'ak-4' } }, 'headers');
    log.info({ req: { headers: { 'x-admin-key': 'ak-5', accept: '*/*' } } }, 'request headers');
    const logged = lines.map((l) => JSON.parse(l));
    assert.equal(logged.length, 5);
    assert.equal(logged[0].adminKey, '[redacted]');
    assert.deepEqual(logged[1].sleep, { kind: 'tabbyapi', adminKey: '[redacted]' });
    assert.deepEqual(logged[2].model, { id: 'm', sleep: { kind: 'tabbyapi', adminKey: '[redacted]' } });
    assert.equal(logged[3].headers['x-admin-key'], '[redacted]');
    assert.deepEqual(logged[4].req.headers, { 'x-admin-key': '[redacted]', accept: '*/*' });
    assert.doesNotMatch(lines.join(''), /ak-\d/);
  });

  it('`swapdock check` output shows keys and secret env values as [redacted]', () => {
    const config = testConfig(`
auth: { keys: [{ name: alice, key: alice-very-secret, models: [m] }] }
models:
  m:
    image: x
    env: { MARKED: { value: marked-secret }, HF_TOKEN: unmarked-token, PLAIN: visible-value, SHOWN: { value: shown-value, secret: false } }
`);
    for (const json of [false, true]) {
      const text = describeConfig(config, 'models.yaml', json);
      for (const secret of ['alice-very-secret', 'marked-secret', 'unmarked-token']) assert.doesNotMatch(text, new RegExp(secret));
      assert.match(text, /visible-value/);
      assert.match(text, /shown-value/);
      assert.match(text, /alice/);
      assert.match(text, /\[redacted\]/);
    }
  });

  it('answers a malformed request with a JSON 400, not an empty reply', async () => {
    const { server } = await startWith('instance: app-bad-http\nmodels: {}', '127.0.0.1:0');
    try {
      const { port } = new URL(server.url);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n'));
        let data = '';
        socket.setEncoding('utf8').on('data', (c) => (data += c)).on('end', () => resolve(data)).on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /content-type: application\/json/);
      const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
      assert.equal(body.error.code, 'malformed_request');
    } finally {
      await server.shutdown();
    }
  });
});
