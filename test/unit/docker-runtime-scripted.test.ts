// DockerRuntime against a scripted engine (an HTTP server that answers like dockerd), for what a
// real engine shows only under load or on another machine:
// - start() of a container that exits at once: the inspect after the start may read `exited`, or
//   `running` with its ports already gone; start() must then throw ContainerExitedError with the
//   exit code and the last log lines, never return a running container without an address;
// - a tcp:// engine gets its ports published on its own address, and is reached there.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ContainerSpec } from '../../src/runtime/container-runtime.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { ContainerExitedError, ContainerNotFoundError } from '../../src/runtime/runtime-errors.js';

const ID = 'feed'.padEnd(64, '0');
const NAME = 'swapdock-test-m1';

type Inspect = { status: string; exitCode?: number; ports?: Record<string, { HostIp: string; HostPort: string }[]> };

function rawInspect(s: Inspect, hostIp: string) {
  return {
    Id: ID, Name: `/${NAME}`,
    State: { Status: s.status, ExitCode: s.exitCode ?? 0, OOMKilled: false },
    Config: { Labels: { 'io.swapdock.model': 'm1', 'io.swapdock.container-port': '8000' } },
    HostConfig: { PortBindings: { '8000/tcp': [{ HostIp: hostIp, HostPort: '' }] } },
    NetworkSettings: { Ports: s.ports ?? {} },
  };
}

/** Framed (non-TTY) log body: [stream, 0, 0, 0, size BE] + payload per line. */
function framed(lines: string[]): Buffer {
  return Buffer.concat(lines.map((l) => {
    const payload = Buffer.from(`${l}\n`);
    const head = Buffer.alloc(8);
    head[0] = 2;
    head.writeUInt32BE(payload.length, 4);
    return Buffer.concat([head, payload]);
  }));
}

interface Scripted {
  /** Inspects answered in order after the start; the last one repeats. */
  inspects: Inspect[];
  created: { body?: any };
  calls: string[];
  host: string;
  close(): Promise<void>;
}

async function scriptedEngine(listen: { socketPath: string } | { host: string }, inspects: Inspect[] = []): Promise<Scripted> {
  const s: Scripted = { inspects, created: {}, calls: [], host: '', close: async () => {} };
  let hostIp = '127.0.0.1';
  let started = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://d');
      s.calls.push(`${req.method} ${url.pathname}`);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === '/version') return json(200, { Version: '20.10.24', ApiVersion: '1.41', Components: [] });
      if (url.pathname === '/containers/create') {
        s.created.body = JSON.parse(body);
        hostIp = s.created.body.HostConfig.PortBindings?.['8000/tcp'][0].HostIp ?? '';
        return json(201, { Id: ID, Warnings: [] });
      }
      if (url.pathname === `/containers/${ID}/start`) {
        started = true;
        res.writeHead(204);
        return res.end();
      }
      if (url.pathname === `/containers/${ID}/json`) {
        const next = !started ? { status: 'created' } : s.inspects.length > 1 ? s.inspects.shift()! : s.inspects[0];
        if (!next) return json(404, { message: `No such container: ${ID}` });
        return json(200, rawInspect(next, hostIp));
      }
      if (url.pathname === `/containers/${ID}/logs`) {
        res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
        return res.end(framed(['loading weights…', 'fatal: simulated start failure']));
      }
      json(404, { message: `scripted engine: no route ${req.method} ${url.pathname}` });
    });
  });
  if ('socketPath' in listen) {
    await new Promise<void>((r) => server.listen(listen.socketPath, r));
    s.host = `unix://${listen.socketPath}`;
  } else {
    await new Promise<void>((r) => server.listen(0, listen.host, r));
    s.host = `tcp://${listen.host}:${(server.address() as AddressInfo).port}`;
  }
  s.close = () => new Promise((r) => {
    server.close(() => r());
    server.closeAllConnections(); // dockerode keeps connections alive
  });
  return s;
}

const spec: ContainerSpec = {
  name: NAME, image: 'img:1', pull: 'never', env: {}, volumes: [], port: 8000, stopTimeoutMs: 1000,
  labels: { 'io.swapdock.model': 'm1', 'io.swapdock.spec-hash': 'h1' },
};

describe('DockerRuntime.start of a container that exits right after its start', () => {
  const sockets: string[] = [];
  const socket = () => {
    const p = path.join(tmpdir(), `swapdock-scripted-${randomBytes(4).toString('hex')}.sock`);
    sockets.push(p);
    return p;
  };
  after(() => sockets.forEach((p) => rmSync(p, { force: true })));

  const startWith = async (inspects: Inspect[]) => {
    const engine = await scriptedEngine({ socketPath: socket() }, inspects);
    const runtime = new DockerRuntime({ host: engine.host });
    return { engine, runtime, start: () => runtime.start(ID) };
  };
  const expectExited = (code: number) => (err: unknown) => {
    assert.ok(err instanceof ContainerExitedError, String(err));
    assert.equal(err.code, 'container_exited');
    assert.equal(err.exitCode, code);
    assert.deepEqual(err.lastLogLines, ['loading weights…', 'fatal: simulated start failure']);
    assert.match(err.message, /exited with code 3 .*fatal: simulated start failure/);
    return true;
  };

  it('reads running without ports while it dies, then exited: ContainerExitedError with exit code and log lines', async () => {
    const { engine, start } = await startWith([{ status: 'running' }, { status: 'running' }, { status: 'exited', exitCode: 3 }]);
    try {
      await assert.rejects(start(), expectExited(3));
      assert.equal(engine.calls.filter((c) => c.endsWith('/json')).length, 3, 'inspected again until the state settled');
    } finally {
      await engine.close();
    }
  });

  it('already exited at the first inspect: ContainerExitedError, not a running container without an address', async () => {
    const { engine, start } = await startWith([{ status: 'exited', exitCode: 3 }]);
    try {
      await assert.rejects(start(), expectExited(3));
    } finally {
      await engine.close();
    }
  });

  it('running without ports for a moment, then with them: the endpoint', async () => {
    const ports = { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }] };
    const { engine, start } = await startWith([{ status: 'running' }, { status: 'running', ports }]);
    try {
      const info = await start();
      assert.equal(info.state, 'running');
      assert.deepEqual(info.endpoint, { host: '127.0.0.1', port: 49153 });
    } finally {
      await engine.close();
    }
  });

  it('removed right after its start: ContainerNotFoundError', async () => {
    const { engine, start } = await startWith([]);
    try {
      await assert.rejects(start(), (err) => err instanceof ContainerNotFoundError);
    } finally {
      await engine.close();
    }
  });
});

describe('DockerRuntime on a tcp:// engine: ports are published on the engine host address and reached there', () => {
  it('tcp://127.0.0.2 (another host as far as the URL says): HostIp and endpoint are 127.0.0.2, never 127.0.0.1 or 0.0.0.0', async () => {
    const ports = { '8000/tcp': [{ HostIp: '127.0.0.2', HostPort: '49160' }] };
    const engine = await scriptedEngine({ host: '127.0.0.2' }, [{ status: 'running', ports }]);
    try {
      const runtime = new DockerRuntime({ host: engine.host });
      await runtime.create(spec);
      assert.deepEqual(engine.created.body.HostConfig.PortBindings, { '8000/tcp': [{ HostIp: '127.0.0.2', HostPort: '' }] });
      assert.deepEqual((await runtime.start(ID)).endpoint, { host: '127.0.0.2', port: 49160 });
    } finally {
      await engine.close();
    }
  });

  it('engine.address overrides it; a network spec publishes nothing', async () => {
    const engine = await scriptedEngine({ host: '127.0.0.2' });
    try {
      await new DockerRuntime({ host: engine.host, address: '127.0.0.3' }).create(spec);
      assert.equal(engine.created.body.HostConfig.PortBindings['8000/tcp'][0].HostIp, '127.0.0.3');
      await new DockerRuntime({ host: engine.host, address: 'no-such-host.invalid' }).create({ ...spec, network: 'models' }).catch(() => undefined);
      assert.equal(engine.created.body.HostConfig.NetworkMode, 'models', 'no address lookup is needed on a network');
    } finally {
      await engine.close();
    }
  });
});
