// Builds the fake-model container image without a registry (nothing can be pulled on test
// machines): a rootfs tar of the host's node binary + its shared libraries + server.js,
// imported through the Engine API. Works on Docker and on Podman's compat API.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

export const fakeModelDir = fileURLToPath(new URL('../fixtures/fake-model/', import.meta.url));
export const fakeModelServer = path.join(fakeModelDir, 'server.js');
export const FAKE_MODEL_REPO = 'swapdock-fake-model';

// Bump when the recipe below changes in a way the hashed inputs would not notice.
const RECIPE_VERSION = 1;
const CHANGES = ['ENTRYPOINT ["/usr/bin/node","/app/server.js"]', 'EXPOSE 8000'];

/** One build per engine per process, even when many tests ask at once. */
const inFlight = new Map<string, Promise<string>>();

export function fakeModelImageTag(): string {
  const node = realpathSync(process.execPath);
  const hash = createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, CHANGES, node: process.version, size: statSync(node).size }))
    .update(readFileSync(fakeModelServer))
    .digest('hex')
    .slice(0, 12);
  return `${FAKE_MODEL_REPO}:${hash}`;
}

export async function ensureFakeModelImage(opts: { socketPath: string }): Promise<string> {
  const key = opts.socketPath;
  let p = inFlight.get(key);
  if (!p) {
    p = build(opts.socketPath);
    inFlight.set(key, p);
    // A failure must not stick: the engine may be started later in the same process.
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

/** Whether the engine has image `ref` (404: no). */
export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function build(socketPath: string): Promise<string> {
  const docker = new Docker({ socketPath });
  const ref = fakeModelImageTag();
  if (await imageExists(docker, ref)) return ref;
  // node --test runs files in parallel processes: serialise builds across processes too.
  const release = await lock(socketPath);
  try {
    if (await imageExists(docker, ref)) return ref;
    await importRootfs(docker, ref);
    if (!(await imageExists(docker, ref))) {
      throw new Error(`fake-model image import reported success but ${ref} is not on ${socketPath}`);
    }
    return ref;
  } finally {
    release();
  }
}

function rootfsMembers(nodeBin: string): string[] {
  const out = execFileSync('ldd', [nodeBin], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  if (libs.size === 0) throw new Error(`ldd ${nodeBin} listed no libraries:\n${out}`);
  return [...libs];
}

async function importRootfs(docker: Docker, ref: string): Promise<void> {
  const nodeBin = realpathSync(process.execPath);
  const rel = (p: string) => p.replace(/^\/+/, '');
  const esc = (p: string) => p.replace(/[\\,.[\]*^$]/g, '\\$&');
  const serverRel = rel(realpathSync(fakeModelServer));
  // -h stores symlinked libs (e.g. /lib64/ld-linux…) as files; --transform places node and
  // the script at the paths ENTRYPOINT names, wherever they live on this host.
  const args = [
    '-C', '/', '-ch', '--owner=0', '--group=0', '--numeric-owner',
    `--transform=s,^${esc(rel(nodeBin))}$,usr/bin/node,`,
    `--transform=s,^${esc(serverRel)}$,app/server.js,`,
    rel(nodeBin), serverRel, ...rootfsMembers(nodeBin).map(rel),
  ];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const tarDone = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? 1));
  });

  let importError: unknown;
  try {
    const stream = await docker.importImage(tar.stdout, { repo: ref, changes: CHANGES });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => {
        const failed = err ?? res.find((r) => r.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
        else resolve();
      });
    });
  } catch (err) {
    importError = err;
    tar.kill();
  }
  const tarCode = await tarDone;
  if (importError) throw new Error(`importing ${ref} failed: ${String(importError)}`);
  if (tarCode !== 0) {
    // The engine happily imports a truncated tar: drop what it made.
    await docker.getImage(ref).remove({ force: true }).catch(() => {});
    throw new Error(`tar for ${ref} exited ${tarCode}: ${tarErr}`);
  }
}

/** Cross-process lock: exclusive mkdir; broken when its owner is gone or it is very old. */
async function lock(socketPath: string): Promise<() => void> {
  const id = createHash('sha1').update(socketPath).digest('hex').slice(0, 8);
  const dir = path.join(tmpdir(), `swapdock-fake-model-${id}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockIsStale(dir)) rmSync(dir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${dir}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function lockIsStale(dir: string): boolean {
  try {
    const age = Date.now() - statSync(dir).mtimeMs;
    let pid = NaN;
    try {
      pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    } catch {
      return age > 5_000; // owner died between mkdir and writing its pid
    }
    if (age > 300_000) return true;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // ESRCH: owner is dead (a killed test run). ENOENT: released meanwhile; retry.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
