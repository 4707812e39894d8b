// A pool of real Docker engines for the multi-engine tests (issue 14): each one a dockerd in a
// network namespace of its own, made here, joined to a bridge in the root namespace (172.31.250.1)
// by a veth, reached over TCP at 172.31.250.(11+i):2375 (or :2376 with mutual TLS), with the FAKE
// NVIDIA hook on its PATH so DeviceRequests [{Driver:'nvidia'}] start, and the fake-model image.
//
//   const pool = await startEnginePool({ names: ['tower', 'rack'], tls: 'rack' });
//   pool.engine('rack').docker          // dockerode over TCP (+ client certificate)
//   await pool.kill('rack');            // SIGKILL its dockerd and containerd: the port stops answering
//   await pool.restart('rack');         // same address, same data-root; resolves when _ping answers
//   await pool.stop();                  // daemons, containers, mounts, namespaces, veths, bridge, temp dirs
//
// Names and addresses are fixed, so one pool runs per machine at a time (a lock; a second process
// waits), and leftovers of a crashed run are cleaned at start. Data-roots stay in
// /var/lib/swapdock-pool-<name> between runs: the ~100 MB image load is paid once per machine.
// Besides TCP each daemon listens on a unix socket in its run directory, used by the harness only
// (cleanup, whatever TLS is configured). Every container on a pool engine belongs to the pool: all
// of them are removed at start and at stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import Docker from 'dockerode';
import { engineSockets, pingSocket } from './engines.js';
import { ensureFakeModelImage, imageExists } from './fake-model-image.js';
import {
  POOL, SYS_PATH, acquirePoolLock, clearStalePidfile, cmdline, createNetns, deleteAllNetwork, engineIp, ensureBridge,
  findProcs, makeTls, netnsPath, pidAlive, readPidfile, signal, unmountUnder, waitDead, type TlsFiles,
} from './engine-pool-system.js';

export type { TlsFiles } from './engine-pool-system.js';

export interface EnginePoolOptions {
  /** Engine names, 1 to 8 of /^[a-z][a-z0-9-]{0,15}$/; the i-th gets 172.31.250.(11+i). */
  names: string[];
  /** The engine(s) that listen with mutual TLS on :2376 instead of plain TCP on :2375. */
  tls?: string | string[];
  /** Load the fake-model image onto every engine (default true; built on the local Docker first). */
  image?: boolean;
}

export interface PoolEngine {
  name: string;
  /** Its host's address: where it listens and where published ports are reached. */
  ip: string;
  port: number;
  /** `tcp://IP:2375`, or `tcp://IP:2376` for a TLS engine. */
  host: string;
  /** Client-side files (CA, client certificate and key) of a TLS engine. */
  tls?: TlsFiles;
  /** dockerode over TCP (with the client certificate when TLS). */
  docker: Docker;
  dataRoot: string;
  /** dockerd's log (appended to across restarts). */
  log: string;
}

export interface EnginePool {
  engines: PoolEngine[];
  engine(name: string): PoolEngine;
  /** The fake-model image ref present on every engine ('' when `image: false`). */
  image: string;
  /** SIGKILLs the engine's dockerd and its containerd; resolves when both are dead (TCP refused). */
  kill(name: string): Promise<void>;
  /** Starts the engine again on the same address and data-root (killing it first if it runs); resolves when `_ping` answers over TCP. */
  restart(name: string): Promise<void>;
  /** Whether the engine answers `_ping` over TCP (with its certificates). */
  ping(name: string, timeoutMs?: number): Promise<boolean>;
  /** Tears everything down. Idempotent. */
  stop(): Promise<void>;
  /** How long start took, by phase (ms): leftovers, network (bridge, namespaces, certificates), daemons, image, total. */
  startTimings: Record<'leftovers' | 'network' | 'daemons' | 'image' | 'total', number>;
}

interface Engine extends PoolEngine {
  index: number;
  dir: string;
  execRoot: string;
  pidfile: string;
  adminSock: string;
  serverTls?: TlsFiles;
  pid?: number;
  child?: ChildProcess;
  /** A dockerd ran on its exec-root (this run or a crashed one): containers may be left there. */
  used?: boolean;
}

const hookDir = path.join(POOL.runDir, 'fake-nvidia-bin');
const enginesDir = path.join(POOL.runDir, 'engines');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// dockerd must not inherit a descriptor node itself inherited without close-on-exec (a caller's flock).
// No redirection on the loop: bash would park its stderr on a high fd, which the loop closes.
const CLOSE_FDS_AND_EXEC = 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done; exec "$@"';
const DOCKERD_PROGRAMS = ['dockerd', 'containerd', 'nsenter', 'ip', 'openssl', 'umount', 'bash'];

/**
 * startEnginePool, unless its prerequisites are missing (not root, a program missing, the local
 * Docker down): then the test fails saying what to do, except on a developer machine with
 * SWAPDOCK_SKIP_INTEGRATION=1 (never in CI), where `t.skip()` is called and null returned.
 */
export async function requireEnginePool(opts: EnginePoolOptions, t?: TestContext): Promise<EnginePool | null> {
  const missing = DOCKERD_PROGRAMS.filter((p) => !SYS_PATH.split(':').some((d) => existsSync(path.join(d, p))));
  let reason = '';
  if (process.getuid?.() !== 0) reason = 'the engine pool needs root (network namespaces, dockerd)';
  else if (missing.length > 0) reason = `programs missing for the engine pool: ${missing.join(', ')} (apt-get install docker.io iproute2 util-linux openssl)`;
  else if ((opts.image ?? true) && !(await pingSocket(engineSockets.docker))) {
    reason = `the local Docker (unix://${engineSockets.docker}) builds the fake-model image and is not answering; start it with: sudo scripts/engines.sh start docker`;
  }
  if (reason) {
    if (process.env.SWAPDOCK_SKIP_INTEGRATION === '1' && process.env.CI !== 'true') {
      t?.skip(`${reason} (skipped: SWAPDOCK_SKIP_INTEGRATION=1)`);
      return null;
    }
    throw new Error(reason);
  }
  return startEnginePool(opts);
}

export async function startEnginePool(opts: EnginePoolOptions): Promise<EnginePool> {
  const names = opts.names;
  if (names.length < 1 || names.length > POOL.maxEngines) throw new Error(`engine pool: 1 to ${POOL.maxEngines} engines, not ${names.length}`);
  for (const n of names) if (!/^[a-z][a-z0-9-]{0,15}$/.test(n)) throw new Error(`engine pool: bad engine name '${n}'`);
  if (new Set(names).size !== names.length) throw new Error(`engine pool: duplicate names in ${names.join(', ')}`);
  const tlsNames = new Set(opts.tls === undefined ? [] : [opts.tls].flat());
  for (const n of tlsNames) if (!names.includes(n)) throw new Error(`engine pool: tls names unknown engine '${n}'`);

  const release = await acquirePoolLock();
  const tmp = mkdtempSync(path.join(tmpdir(), 'swapdock-pool-'));
  const engines: Engine[] = [];
  const killAllSync = () => engines.forEach((e) => killProcesses(e));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killAllSync);
    try {
      const results = await Promise.allSettled(engines.map((e) => stopDaemon(e)));
      await teardownRunState();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      release();
    }
  };
  const t0 = performance.now();
  let mark = t0;
  const lap = () => Math.round(-mark + (mark = performance.now()));
  try {
    await cleanLeftovers(names);
    const leftovers = lap();
    process.on('exit', killAllSync);
    writeHook();
    ensureBridge();
    names.forEach((name, index) => engines.push(makeEngine(name, index, tlsNames.has(name) ? tmp : undefined)));
    for (const e of engines) createNetns(e.name, e.index);
    const network = lap();
    await Promise.all(engines.map((e) => startDaemon(e)));
    await Promise.all(engines.map((e) => removeEverything(admin(e))));
    const daemons = lap();
    const image = opts.image ?? true ? await loadImage(engines) : '';
    const startTimings = { leftovers, network, daemons, image: lap(), total: Math.round(performance.now() - t0) };
    const get = (name: string): Engine => {
      const e = engines.find((x) => x.name === name);
      if (!e) throw new Error(`engine pool: no engine '${name}' (${names.join(', ')})`);
      return e;
    };
    const views = engines.map(({ name, ip, port, host, tls, docker, dataRoot, log }): PoolEngine => ({ name, ip, port, host, tls, docker, dataRoot, log }));
    return {
      engines: views,
      engine: (name) => views[get(name).index]!,
      image,
      kill: (name) => killDaemon(get(name)),
      restart: async (name) => {
        const e = get(name);
        if (pidAlive(e.pid)) await killDaemon(e);
        await startDaemon(e);
      },
      ping: (name, timeoutMs) => ping(get(name), timeoutMs),
      stop,
      startTimings,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

function makeEngine(name: string, index: number, tlsDir: string | undefined): Engine {
  const ip = engineIp(index);
  const dir = path.join(enginesDir, name);
  mkdirSync(path.join(dir, 'exec'), { recursive: true });
  writeFileSync(path.join(dir, 'daemon.json'), '{}\n'); // not /etc/docker/daemon.json: that is the main daemon's
  const certs = tlsDir ? makeTls(path.join(tlsDir, name), ip) : undefined;
  const port = certs ? 2376 : 2375;
  const read = (f: string) => readFileSync(f);
  const docker = certs
    ? new Docker({ host: ip, port, protocol: 'https', ca: read(certs.client.ca), cert: read(certs.client.cert), key: read(certs.client.key) })
    : new Docker({ host: ip, port, protocol: 'http' });
  const log = `/var/log/swapdock-pool-${name}.log`;
  writeFileSync(log, '');
  return {
    name, index, ip, port, host: `tcp://${ip}:${port}`, tls: certs?.client, serverTls: certs?.server, docker, log,
    dataRoot: `${POOL.dataRootPrefix}${name}`, dir, execRoot: path.join(dir, 'exec'), pidfile: path.join(dir, 'docker.pid'),
    adminSock: path.join(dir, 'admin.sock'),
  };
}

const admin = (e: Pick<Engine, 'adminSock'>) => new Docker({ socketPath: e.adminSock });
const containerdPidfile = (e: Pick<Engine, 'execRoot'>) => path.join(e.execRoot, 'containerd', 'containerd.pid');

function writeHook(): void {
  mkdirSync(hookDir, { recursive: true });
  const hook = path.join(hookDir, 'nvidia-container-runtime-hook');
  // dockerd registers its "nvidia" device driver iff this name is on its PATH at start.
  writeFileSync(hook, '#!/bin/sh\n# FAKE hook for swapdock tests: lets dockerd accept nvidia DeviceRequests without a GPU.\ncat >/dev/null\nexit 0\n', { mode: 0o755 });
}

/** Starts the engine's dockerd in its namespace; resolves when it answers on every host it listens on. */
async function startDaemon(e: Engine, tcp = true): Promise<void> {
  clearStalePidfile(e.pidfile, `--exec-root ${e.execRoot}`);
  clearStalePidfile(containerdPidfile(e), e.execRoot);
  if (existsSync(e.pidfile)) throw new Error(`engine pool: a dockerd (pid ${readPidfile(e.pidfile)}) already runs on ${e.execRoot}`);
  rmSync(e.adminSock, { force: true });
  mkdirSync(e.dataRoot, { recursive: true });
  const listen = !tcp ? []
    : e.serverTls
      ? ['--host', e.host, '--tlsverify', '--tlscacert', e.serverTls.ca, '--tlscert', e.serverTls.cert, '--tlskey', e.serverTls.key]
      : ['--host', e.host, '--tls=false']; // without --tls=false Docker 20.10 waits 15 s before listening on plain TCP
  const args = [
    `--net=${netnsPath(e.name)}`, 'dockerd', '--host', `unix://${e.adminSock}`, ...listen,
    '--pidfile', e.pidfile, '--exec-root', e.execRoot, '--data-root', e.dataRoot, '--config-file', path.join(e.dir, 'daemon.json'),
    '--bip', `10.213.${240 + e.index}.1/24`, '--iptables=false', '--ip-masq=false',
  ];
  const logFd = openSync(e.log, 'a');
  // nsenter, not `ip netns exec` (that remounts /sys and dockerd dies: "Devices cgroup isn't mounted").
  // detached (own session): the daemon lives until the harness ends it, not with a terminal's ^C.
  const child = spawn('bash', ['-c', CLOSE_FDS_AND_EXEC, 'swapdock-pool-dockerd', 'nsenter', ...args], {
    cwd: '/', detached: true, stdio: ['ignore', logFd, logFd], env: { PATH: `${hookDir}:${SYS_PATH}` },
  });
  closeSync(logFd);
  child.unref();
  e.child = child;
  e.pid = child.pid;
  e.used = true;
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if ((await pingSocket(e.adminSock, 1000)) && (!tcp || (await ping(e, 1000)))) return;
    if (exited) throw new Error(`engine pool: dockerd '${e.name}' exited at start; log ${e.log}:\n${tail(e.log)}`);
    if (Date.now() > deadline) throw new Error(`engine pool: dockerd '${e.name}' not answering after 60 s; log ${e.log}:\n${tail(e.log)}`);
    await sleep(50);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

/** SIGKILLs dockerd and its containerd (synchronously; also the exit hook). Returns their pids. */
function killProcesses(e: Engine): number[] {
  const containerd = readPidfile(containerdPidfile(e));
  const pids = [e.pid, containerd && cmdline(containerd).join(' ').includes(e.execRoot) ? containerd : undefined]
    .filter((p): p is number => pidAlive(p));
  for (const pid of pids) signal(pid, 'SIGKILL');
  return pids;
}

async function killDaemon(e: Engine): Promise<void> {
  const pids = killProcesses(e);
  if (!(await waitDead(pids, 10_000))) throw new Error(`engine pool: '${e.name}' (pids ${pids.join(', ')}) still alive 10 s after SIGKILL`);
  e.pid = undefined;
}

/**
 * Graceful: remove every container, SIGTERM, wait (SIGKILL after 20 s). A killed engine is started
 * once more (without TCP) first: its containers still run under their shims and only a dockerd on
 * the same exec-root can end them.
 */
async function stopDaemon(e: Engine): Promise<void> {
  if (!pidAlive(e.pid)) {
    if (!e.used) return;
    await startDaemon(e, false);
  }
  await removeEverything(admin(e)).catch(() => undefined);
  const containerd = readPidfile(containerdPidfile(e));
  signal(e.pid!, 'SIGTERM');
  if (!(await waitDead([e.pid!], 20_000))) await killDaemon(e);
  if (containerd && pidAlive(containerd) && cmdline(containerd).join(' ').includes(e.execRoot)) {
    signal(containerd, 'SIGKILL');
    await waitDead([containerd], 5_000);
  }
  e.pid = undefined;
}

/** The whole engine is the pool's: remove all its containers (with volumes), unused networks and volumes. */
async function removeEverything(docker: Docker): Promise<void> {
  const list = await docker.listContainers({ all: true });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
  })));
  await docker.pruneNetworks();
  await docker.pruneVolumes();
}

/** TCP `_ping` as a client sees it (TLS engines: with the client certificate). */
function ping(e: Engine, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const opts = { host: e.ip, port: e.port, path: '/_ping', timeout: timeoutMs };
    const onRes = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => resolve(false));
    };
    const req = e.tls
      ? https.get({ ...opts, ca: readFileSync(e.tls.ca), cert: readFileSync(e.tls.cert), key: readFileSync(e.tls.key) }, onRes)
      : http.get(opts, onRes);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/** The fake-model image, built on the local Docker, copied (`save | load` over TCP) where missing. */
async function loadImage(engines: Engine[]): Promise<string> {
  const ref = await ensureFakeModelImage({ socketPath: engineSockets.docker });
  const local = new Docker({ socketPath: engineSockets.docker });
  await Promise.all(engines.map(async (e) => {
    if (await imageExists(e.docker, ref)) return;
    const progress = await e.docker.loadImage(await local.getImage(ref).get());
    await new Promise<void>((resolve, reject) =>
      e.docker.modem.followProgress(progress, (err: Error | null, out: { error?: string }[]) => {
        const failed = err ?? out.find((o) => o.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
        else resolve();
      }),
    );
    if (!(await imageExists(e.docker, ref))) throw new Error(`engine pool: ${ref} not on '${e.name}' after load`);
  }));
  return ref;
}

/**
 * A crashed earlier run (its lock holder is dead) may have left daemons, containers, mounts and
 * namespaces. Daemons are SIGKILLed; an engine of this run cleans its own containers when it starts
 * on the same exec-root (dockerd kills what it finds running); any other leftover engine is started
 * once, without TCP, emptied and stopped.
 */
async function cleanLeftovers(names: string[]): Promise<void> {
  const pids = [...findProcs(/^dockerd$/, `--exec-root ${enginesDir}/`), ...findProcs(/^containerd$/, `${enginesDir}/`)];
  for (const pid of pids) signal(pid, 'SIGKILL');
  if (!(await waitDead(pids, 10_000))) throw new Error(`engine pool: leftover daemons ${pids.join(', ')} survive SIGKILL`);
  deleteAllNetwork();
  const others = (existsSync(enginesDir) ? readdirSync(enginesDir) : []).filter((n) => !names.includes(n));
  for (const name of others) {
    const e = { ...makeEngine(name, POOL.maxEngines - 1, undefined), used: true };
    try {
      createNetns(name);
      await stopDaemon(e); // starts it without TCP, removes its containers, stops it
    } finally {
      deleteAllNetwork();
      unmountUnder([`${e.dir}/`, `${e.dataRoot}/`]);
      rmSync(e.dir, { recursive: true, force: true });
    }
  }
}

/** After every daemon is stopped: strays (SIGKILL), mounts, namespaces, veths, the bridge, the run directory. */
async function teardownRunState(): Promise<void> {
  const strays = [/^dockerd$/, /^containerd$/, /^containerd-shim/].flatMap((prog) => findProcs(prog, `${enginesDir}/`));
  for (const pid of strays) signal(pid, 'SIGKILL');
  await waitDead(strays, 5_000);
  unmountUnder([`${POOL.runDir}/`, POOL.dataRootPrefix]);
  deleteAllNetwork();
  rmSync(POOL.runDir, { recursive: true, force: true });
}
