// dockerode's rarely used dependencies load only when used (src/runtime/dockerode-lazy-deps.ts).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../src/runtime/docker-runtime.js';

const require = createRequire(import.meta.url);
const loaded = (pattern: RegExp) => Object.keys(require.cache).some((file) => pattern.test(file) && require.cache[file]?.loaded && !file.endsWith('docker-modem/lib/ssh.js'));

describe('dockerode without its idle weight', () => {
  it('loads neither ssh2 nor gRPC with the runtime, and ssh2 on the first ssh:// agent', () => {
    assert.equal(loaded(/node_modules\/ssh2\//), false, 'ssh2 is not loaded up front');
    assert.equal(loaded(/@grpc\/grpc-js\/build\/src\/(?!index\.js)/), false, 'gRPC is not loaded up front');
    const sshAgent = require(require.resolve('docker-modem/lib/ssh.js', { paths: [require.resolve('dockerode')] })) as (opt: object) => { createConnection: unknown };
    const agent = sshAgent({ host: '127.0.0.1', port: 1, username: 'nobody' });
    assert.equal(typeof agent.createConnection, 'function');
    assert.equal(loaded(/node_modules\/ssh2\//), true, 'ssh2 loaded on first use');
  });
});
