// Which container engines integration tests may use, and how to clean up after them.
// Engines are started by scripts/engines.sh (CI does that in .ci/run).
import http from 'node:http';
import type { TestContext } from 'node:test';
import Docker from 'dockerode';

export const engineSockets = {
  docker: '/var/run/docker.sock',
  podman: '/run/podman/podman.sock',
  gpuDocker: '/run/swapdock-gpu/docker.sock',
} as const;

export type EngineName = keyof typeof engineSockets;

const scriptName: Record<EngineName, string> = { docker: 'docker', podman: 'podman', gpuDocker: 'gpu-docker' };

export function pingSocket(socketPath: string, timeoutMs = 3000): Promise<boolean> {
  return pingEngine({ socketPath }, timeoutMs);
}

/** True when the engine at `where` (a socket, or host and port) answers `_ping` with OK. */
export function pingEngine(where: { socketPath: string } | { host: string; port: number }, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ ...where, path: '/_ping', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/**
 * Resolves to the engine's socket when it answers `_ping`. When it does not, the test fails
 * with instructions, except on a developer machine that opted out with
 * SWAPDOCK_SKIP_INTEGRATION=1: then `t.skip()` is called and null returned (never in CI).
 */
export async function requireEngine(
  name: EngineName,
  t?: TestContext,
): Promise<{ name: EngineName; socketPath: string } | null> {
  const socketPath = engineSockets[name];
  if (await pingSocket(socketPath)) return { name, socketPath };
  const reason = `container engine '${name}' is not answering at unix://${socketPath}; start it with: sudo scripts/engines.sh start ${scriptName[name]}`;
  if (process.env.SWAPDOCK_SKIP_INTEGRATION === '1' && process.env.CI !== 'true') {
    t?.skip(`${reason} (skipped: SWAPDOCK_SKIP_INTEGRATION=1)`);
    return null;
  }
  throw new Error(reason);
}

const ignorable = (err: unknown): boolean => {
  const e = err as { statusCode?: number; message?: string; json?: { message?: string } };
  if (e.statusCode === 404 || e.statusCode === 409) return true;
  // Podman reports races (already gone / removal in progress) as 500.
  const msg = `${e.json?.message ?? ''} ${e.message ?? ''}`.toLowerCase();
  return e.statusCode === 500 && /no such container|already in progress|not found/.test(msg);
};

/**
 * Force-removes (with volumes) every container carrying ALL of `labels`. Refuses an empty
 * filter: the engine may be shared with other runs or other software.
 * Resolves to the number of containers removed.
 */
export async function cleanupByLabel(socketPath: string, labels: Record<string, string>): Promise<number> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (label.length === 0) throw new Error('cleanupByLabel: refusing to remove containers without a label filter');
  const docker = new Docker({ socketPath });
  const list = await docker.listContainers({ all: true, filters: { label } });
  // Belt and braces: the filter is an AND on both engines, but check before deleting anything.
  const mine = list.filter((c) => Object.entries(labels).every(([k, v]) => c.Labels?.[k] === v));
  let removed = 0;
  await Promise.all(
    mine.map(async (c) => {
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
        removed++;
      } catch (err) {
        if (!ignorable(err)) throw err;
      }
    }),
  );
  return removed;
}
