// A real image registry for pull tests: Debian's `docker-registry` (distribution 2.8) on a free
// 127.0.0.1 port, with its own storage and, optionally, htpasswd (bcrypt) authentication.
// Plain HTTP: Docker allows that for 127.0.0.0/8 by default; Podman needs the loopback registry
// marked insecure in registries.conf (scripts/engines.sh writes that drop-in before it starts
// the Podman service).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { imageExists } from './fake-model-image.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface Credentials {
  username: string;
  password: string;
}

export interface TestRegistry {
  /** host:port, as written in image names. */
  host: string;
  /** Stops the registry (pulls then fail with "connection refused"). Idempotent. */
  stop(): Promise<void>;
  /** Stops it and removes its storage. */
  destroy(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** `127.0.0.1:<port>` where nothing listens (a registry that is down). */
export async function freeAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

/** A bcrypt htpasswd line (the only hash docker-registry accepts), made by apache2-utils' htpasswd. */
function htpasswdLine({ username, password }: Credentials): string {
  try {
    return execFileSync('htpasswd', ['-nbB', username, password], { encoding: 'utf8' }).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('htpasswd is not installed; the registry auth tests need it: apt-get install apache2-utils');
    }
    throw err;
  }
}

async function answers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

export async function startRegistry(options: { auth?: Credentials } = {}): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing; the registry tests need it: apt-get install docker-registry`);
  const dir = mkdtempSync(path.join(tmpdir(), 'swapdock-registry-'));
  mkdirSync(path.join(dir, 'data'));
  const authBlock = options.auth
    ? (writeFileSync(path.join(dir, 'htpasswd'), `${htpasswdLine(options.auth)}\n`),
      `auth:\n  htpasswd:\n    realm: swapdock-test\n    path: ${path.join(dir, 'htpasswd')}\n`)
    : '';
  // A port taken between freePort() and the registry's bind makes it exit: try another.
  for (let attempt = 1; ; attempt++) {
    const host = `127.0.0.1:${await freePort()}`;
    writeFileSync(
      path.join(dir, 'config.yml'),
      `version: 0.1\nlog:\n  level: warn\n  accesslog: { disabled: true }\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n` +
        `  delete: { enabled: true }\nhttp:\n  addr: ${host}\n${authBlock}`,
    );
    const child = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    let up = false;
    while (!up && child.exitCode === null && Date.now() < deadline) {
      up = await answers(host);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) return handle(host, child, exited, dir);
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not come up on ${host}: ${stderr.trim() || 'no output'}`);
    }
  }
}

function handle(host: string, child: ChildProcess, exited: Promise<void>, dir: string): TestRegistry {
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    host,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = err ?? out.find((e) => e.error);
      if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
      else resolve();
    });
  });
}

/**
 * A model image that exists nowhere else: `base` plus a layer holding a random file, so pulling
 * it downloads a layer this engine does not have. Built on `docker` (a Docker engine).
 */
export async function buildUniqueImage(docker: Docker, base: string, repo: string): Promise<string> {
  const nonce = randomBytes(8).toString('hex');
  const ref = `${repo}:${nonce}`;
  const ctx = mkdtempSync(path.join(tmpdir(), 'swapdock-unique-image-'));
  try {
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY nonce /app/nonce\n`);
    // Some bytes, so the layer has a size to report progress on.
    writeFileSync(path.join(ctx, 'nonce'), createHash('sha512').update(nonce).digest('hex').repeat(4096));
    const stream = await docker.buildImage({ context: ctx, src: ['Dockerfile', 'nonce'] }, { t: ref, rm: true, forcerm: true });
    await follow(docker, stream);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return ref;
}

/** Pushes `localRef` as `remoteRef` (a name on the registry) from a Docker engine. */
export async function pushImage(docker: Docker, localRef: string, remoteRef: string, auth?: Credentials & { serveraddress: string }): Promise<void> {
  const colon = remoteRef.lastIndexOf(':');
  const [repo, tag] = [remoteRef.slice(0, colon), remoteRef.slice(colon + 1)];
  await docker.getImage(localRef).tag({ repo, tag });
  const stream = await docker.getImage(remoteRef).push({ tag, ...(auth ? { authconfig: auth } : {}) });
  await follow(docker, stream);
}

/** Removes the named references from an engine (their layers stay while other images use them). */
export async function removeImages(docker: Docker, refs: string[]): Promise<void> {
  for (const ref of refs) {
    await docker.getImage(ref).remove({ noprune: false }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }
}

export { imageExists };
