// The swapdock container image, built from this repository's Dockerfile without a container
// registry (none is reachable on test machines and in CI): its NODE_IMAGE base is made from the
// host's Node the way the fake-model image is — a rootfs tar imported through the Engine API —
// with npm, a shell and the host's CA bundle added, so the Dockerfile's `npm ci` runs as it does
// for users (from the npm registry, the one package registry the machines reach).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { imageExists } from './fake-model-image.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const RECIPE_VERSION = 1;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sha(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
}

/** The npm package directory of the host's npm (e.g. /usr/lib/node_modules/npm). */
function hostNpmDir(): string {
  const npmBin = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  return path.dirname(path.dirname(realpathSync(npmBin)));
}

function sharedLibraries(binaries: string[]): string[] {
  const out = execFileSync('ldd', binaries, { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const m of out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libs.add(m[1]!);
  return [...libs];
}

function copyInto(root: string, from: string, to = from): void {
  mkdirSync(path.join(root, path.dirname(to)), { recursive: true });
  cpSync(realpathSync(from), path.join(root, to), { dereference: true });
}

/** The host registry npm uses (a mirror on some machines); the image's npm uses the same. */
function npmRegistry(): string {
  try {
    return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: tmpdir() }).trim();
  } catch {
    return 'https://registry.npmjs.org/';
  }
}

/**
 * `swapdock-node-base:<hash>`: the host's node and npm, /bin/sh and env (npm runs scripts with
 * them), their libraries, and the host's CA bundle (npm's TLS goes through the same proxies and
 * mirrors as the host's). Tagged by its inputs; imported once per engine.
 */
export async function ensureNodeBaseImage(docker: Docker): Promise<string> {
  const node = realpathSync(process.execPath);
  const npmDir = hostNpmDir();
  const npmVersion = (JSON.parse(readFileSync(path.join(npmDir, 'package.json'), 'utf8')) as { version: string }).version;
  const registry = npmRegistry();
  const ca = existsSync(CA_BUNDLE) ? readFileSync(CA_BUNDLE) : Buffer.alloc(0);
  const changes = [
    `ENV PATH=${PATH_ENV}`,
    'ENV HOME=/root',
    `ENV npm_config_registry=${registry}`,
    ...(ca.length ? [`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`] : []),
    'CMD ["node"]',
  ];
  const ref = `swapdock-node-base:${sha(JSON.stringify({ RECIPE_VERSION, node: process.version, size: statSync(node).size, npmVersion, changes }), ca)}`;
  if (await imageExists(docker, ref)) return ref;

  const root = mkdtempSync(path.join(tmpdir(), 'swapdock-node-base-'));
  try {
    const shell = realpathSync('/bin/sh');
    const env = realpathSync('/usr/bin/env');
    copyInto(root, node, '/usr/bin/node');
    copyInto(root, shell, '/bin/sh');
    copyInto(root, env, '/usr/bin/env');
    for (const lib of sharedLibraries([node, shell, env])) copyInto(root, lib);
    cpSync(npmDir, path.join(root, 'usr/lib/node_modules/npm'), { recursive: true, dereference: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(root, 'usr/bin/npx'));
    if (ca.length) copyInto(root, CA_BUNDLE);
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    for (const dir of ['tmp', 'root']) mkdirSync(path.join(root, dir), { mode: dir === 'tmp' ? 0o1777 : 0o700 });
    const tar = spawn('tar', ['-C', root, '-c', '--owner=0', '--group=0', '--numeric-owner', ...readdirSync(root)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.importImage(tar.stdout, { repo: ref, changes });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
        const failed = err ?? out.find((e) => e.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
        else resolve();
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (!(await imageExists(docker, ref))) throw new Error(`importing ${ref} reported success but the engine does not have it`);
  return ref;
}

/** Hash of what the Dockerfile copies in (as .dockerignore leaves it), to tag the image by content. */
function contextHash(): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(repoRoot, rel);
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs).sort()) walk(path.join(rel, e));
    } else {
      h.update(rel).update('\0').update(readFileSync(abs)).update('\0');
    }
  };
  for (const rel of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin']) walk(rel);
  return h.digest('hex').slice(0, 12);
}

/**
 * Builds `swapdock:ci-<hash>` with `docker build` (the legacy builder, as on these machines)
 * from this repository and the local base; a build of the same sources is found and reused, and
 * otherwise the engine's layer cache keeps `npm ci` from running again when only src/ changed.
 */
export async function ensureSwapdockImage(socketPath: string): Promise<{ image: string; base: string; built: boolean }> {
  const docker = new Docker({ socketPath });
  const base = await ensureNodeBaseImage(docker);
  const image = `swapdock:ci-${sha(contextHash(), base)}`;
  if (await imageExists(docker, image)) return { image, base, built: false };
  await new Promise<void>((resolve, reject) => {
    execFile(
      'docker',
      ['build', '--build-arg', `NODE_IMAGE=${base}`, '-t', image, '.'],
      { cwd: repoRoot, env: { ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_BUILDKIT: '0' }, maxBuffer: 64 << 20, timeout: 600_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`docker build failed: ${err.message}\n${(stdout + stderr).slice(-4000)}`)) : resolve()),
    );
  });
  return { image, base, built: true };
}

/** Copies an image from one engine to another (`docker save | podman load`, through the API). */
export async function copyImage(image: string, from: Docker, to: Docker): Promise<void> {
  if (await imageExists(to, image)) return;
  const tar = await from.getImage(image).get();
  const stream = await to.loadImage(tar);
  await new Promise<void>((resolve, reject) =>
    to.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = err ?? out.find((e) => e.error);
      if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
      else resolve();
    }),
  );
  if (!(await imageExists(to, image))) throw new Error(`loading ${image} reported success but the engine does not have it`);
}
