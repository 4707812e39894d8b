// Root-namespace plumbing for the engine pool harness (engine-pool-harness.ts): processes read
// through /proc, the bridge / veths / network namespaces, leftover mounts, test certificates.
// Everything here is named with the harness's own prefixes (see POOL), so it never touches the
// main dockerd, Podman, or scripts/engines.sh's gpu-docker and remote-docker.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const POOL = {
  /** Run state: one directory per engine (exec-root, pidfile, admin socket, log), the fake hook. */
  runDir: '/run/swapdock-pool',
  /** Data-roots live on between runs so the fake-model image is loaded once per machine. */
  dataRootPrefix: '/var/lib/swapdock-pool-',
  /** Held (mkdir) by the one process that runs a pool; a second one waits. */
  lockDir: '/run/swapdock-pool.lock',
  netnsPrefix: 'swapdock-pool-',
  /** Interface names (≤ 15 characters): the bridge and the host ends of the veths. */
  linkPrefix: 'sdpool-',
  bridge: 'sdpool-br0',
  subnet: '172.31.250', // the bridge is .1, engine i is .(11 + i); engines.sh's remote uses 172.31.252.0/24
  maxEngines: 8,
} as const;

export const SYS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: SYS_PATH }, ...opts });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}
const tryRun = (cmd: string, args: string[]) => {
  try {
    run(cmd, args);
  } catch {
    /* already gone */
  }
};

// ---- processes -------------------------------------------------------------------------------

/** Live = in /proc and not a zombie (a SIGKILLed process is a zombie for a moment; kill -0 lies). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function readPidfile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Live processes whose program is `prog` and whose command line mentions `needle`. */
export function findProcs(prog: RegExp, needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const argv = cmdline(pid);
    if (argv[0] && prog.test(path.basename(argv[0])) && argv.join(' ').includes(needle) && pidAlive(pid)) out.push(pid);
  }
  return out;
}

export async function waitDead(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(pidAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone meanwhile */
  }
}

/** A pidfile naming a dead, zombie or foreign process makes dockerd refuse to start (or hang): remove it. */
export function clearStalePidfile(file: string, want: string): void {
  const pid = readPidfile(file);
  if (!existsSync(file)) return;
  if (pid && pidAlive(pid) && cmdline(pid).join(' ').includes(want)) return;
  rmSync(file, { force: true });
}

// ---- the pool lock ---------------------------------------------------------------------------

/** One pool per machine at a time (fixed names and addresses): wait for a live holder, break a dead one's. */
export async function acquirePoolLock(timeoutMs = 300_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(POOL.lockDir);
      writeFileSync(path.join(POOL.lockDir, 'pid'), String(process.pid));
      return () => rmSync(POOL.lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPidfile(path.join(POOL.lockDir, 'pid'));
    if (holder === process.pid) throw new Error('an engine pool is already running in this process: stop() it first');
    if (holder === undefined ? Date.now() - lockAge() > 5_000 : !pidAlive(holder)) {
      rmSync(POOL.lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`engine pool: process ${holder} has held ${POOL.lockDir} for ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}
function lockAge(): number {
  try {
    return Number(run('stat', ['-c', '%Y', POOL.lockDir]).trim()) * 1000;
  } catch {
    return Date.now();
  }
}

// ---- network ---------------------------------------------------------------------------------

export const engineIp = (index: number) => `${POOL.subnet}.${11 + index}`;
export const netnsName = (name: string) => `${POOL.netnsPrefix}${name}`;
export const netnsPath = (name: string) => `/run/netns/${netnsName(name)}`;

/** The bridge (172.31.250.1/24) in the root namespace. Idempotent. */
export function ensureBridge(): void {
  if (!existsSync(`/sys/class/net/${POOL.bridge}`)) run('ip', ['link', 'add', POOL.bridge, 'type', 'bridge']);
  run('ip', ['addr', 'replace', `${POOL.subnet}.1/24`, 'dev', POOL.bridge]);
  run('ip', ['link', 'set', POOL.bridge, 'up']);
}

/** A fresh namespace; with an `index`, joined to the bridge by a veth (engine i: 172.31.250.(11+i)). lo up; no default route. */
export function createNetns(name: string, index?: number): void {
  deleteNetns(name);
  const ns = netnsName(name);
  const host = `${POOL.linkPrefix}h${index}`;
  if (index !== undefined && existsSync(`/sys/class/net/${host}`)) tryRun('ip', ['link', 'del', host]);
  // Batches: each separate `ip` costs ~30 ms here.
  const root = [`netns add ${ns}`];
  const inside = ['link set lo up'];
  if (index !== undefined) {
    root.push(`link add ${host} type veth peer name eth0 netns ${ns}`, `link set ${host} master ${POOL.bridge} up`);
    inside.push(`addr add ${engineIp(index)}/24 dev eth0`, 'link set eth0 up');
  }
  run('ip', ['-batch', '-'], { input: root.join('\n') + '\n' });
  run('ip', ['-n', ns, '-batch', '-'], { input: inside.join('\n') + '\n' });
}

export function deleteNetns(name: string): void {
  if (existsSync(netnsPath(name))) tryRun('ip', ['netns', 'del', netnsName(name)]);
}

/** Every namespace, veth and bridge of the pool (after its daemons are gone). */
export function deleteAllNetwork(): void {
  for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
    if (ns.startsWith(POOL.netnsPrefix)) tryRun('ip', ['netns', 'del', ns]);
  }
  for (const link of readdirSync('/sys/class/net')) {
    if (link.startsWith(POOL.linkPrefix) && link !== POOL.bridge) tryRun('ip', ['link', 'del', link]);
  }
  if (existsSync(`/sys/class/net/${POOL.bridge}`)) tryRun('ip', ['link', 'del', POOL.bridge]);
}

// ---- mounts ----------------------------------------------------------------------------------

/** A killed dockerd leaves mounts (its data-root's private bind, overlays, netns files) behind. */
export function unmountUnder(prefixes: string[]): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && prefixes.some((pre) => p.startsWith(pre)))
    .sort((a, b) => b.length - a.length);
  for (const p of new Set(points)) tryRun('umount', ['-l', p]);
}

// ---- TLS -------------------------------------------------------------------------------------

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A CA, a server certificate for `ip` (IP SAN) and a client certificate, EC P-256, made with openssl in `dir`. */
export function makeTls(dir: string, ip: string): { server: TlsFiles; client: TlsFiles } {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const newKey = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}-key.pem`)];
  run('openssl', ['req', '-x509', ...newKey('ca'), '-sha256', '-days', '7', '-subj', '/CN=swapdock-pool-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.pem')]);
  const sign = (name: string, cn: string, ext: string) => {
    run('openssl', ['req', '-new', ...newKey(name), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`)]);
    writeFileSync(f(`${name}.ext`), ext);
    run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial',
      '-days', '7', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}-cert.pem`)]);
  };
  sign('server', ip, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  sign('client', 'swapdock-pool-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return {
    server: { ca: f('ca.pem'), cert: f('server-cert.pem'), key: f('server-key.pem') },
    client: { ca: f('ca.pem'), cert: f('client-cert.pem'), key: f('client-key.pem') },
  };
}
