// `npm run demo -- --auto` on a machine without a GPU runtime must still show what swapdock is
// for: a swap, with the log line that explains it, and then the idle TTL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../src/runtime/labels.js';
import { requireEngine } from '../support/engines.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function runDemo(socketPath: string, port: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--auto', '--listen', `127.0.0.1:${port}`, '--ttl', '2'], {
      cwd: root,
      env: { ...process.env, DOCKER_HOST: `unix://${socketPath}`, SWAPDOCK_DEMO_GPU: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

describe('npm run demo -- --auto (Docker, no GPU runtime)', () => {
  it('shows a swap and explains it in the log, then the idle TTL, and leaves no container behind', async (t) => {
    const engine = await requireEngine('docker', t);
    if (!engine) return;
    const { code, output } = await runDemo(engine.socketPath, await freePort());
    assert.equal(code, 0, `the demo failed:\n${output.slice(-4000)}`);
    assert.match(output, /Swapping: 'demo-large' runs on the CPU: making room by stopping 'demo-small' \(conflicts\)/, output.slice(-4000));
    assert.match(output, /Swapping: 'demo-small' runs on the CPU: making room by stopping 'demo-large' \(conflicts\)/, output.slice(-4000));
    assert.match(output, /demo-small was stopped for being idle/);
    assert.match(output, /Walkthrough complete/);
    const docker = new Docker({ socketPath: engine.socketPath });
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`, `${LABEL_INSTANCE}=demo`] } });
    assert.deepEqual(left.map((c) => c.Names[0]), [], 'the demo must remove its containers');
  });
});
