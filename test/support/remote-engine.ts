// The "remote" engine of the tests: a dockerd in a network namespace of its own, reached over
// TCP like an engine on another machine (scripts/engines.sh start remote-docker). A port it
// publishes on its own 127.0.0.1 cannot be reached from here; one on 172.31.252.11 can.
import type { TestContext } from 'node:test';
import Docker from 'dockerode';
import { engineSockets, pingEngine } from './engines.js';
import { ensureFakeModelImage } from './fake-model-image.js';

export const remoteEngine = { host: 'tcp://172.31.252.11:2375', ip: '172.31.252.11', port: 2375 } as const;

function pingTcp(timeoutMs = 3000): Promise<boolean> {
  return pingEngine({ host: remoteEngine.ip, port: remoteEngine.port }, timeoutMs);
}

/**
 * A dockerode client of the remote engine when it answers. Otherwise the test fails with
 * instructions — except on a developer machine with SWAPDOCK_SKIP_INTEGRATION=1 (never in CI):
 * then `t.skip()` and null, as requireEngine does for the local engines.
 */
export async function requireRemoteEngine(t?: TestContext): Promise<Docker | null> {
  if (await pingTcp()) return new Docker({ host: remoteEngine.ip, port: remoteEngine.port, protocol: 'http' });
  const reason = `the remote test engine is not answering at ${remoteEngine.host}; start it with: sudo scripts/engines.sh start remote-docker`;
  if (process.env.SWAPDOCK_SKIP_INTEGRATION === '1' && process.env.CI !== 'true') {
    t?.skip(`${reason} (skipped: SWAPDOCK_SKIP_INTEGRATION=1)`);
    return null;
  }
  throw new Error(reason);
}

let copying: Promise<string> | undefined;

/** The fake-model image on the remote engine: built on the local Docker, then `docker save | docker load` over TCP. */
export function ensureRemoteFakeModelImage(remote: Docker): Promise<string> {
  copying ??= (async () => {
    const ref = await ensureFakeModelImage({ socketPath: engineSockets.docker });
    try {
      await remote.getImage(ref).inspect();
      return ref;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    const tar = await new Docker({ socketPath: engineSockets.docker }).getImage(ref).get();
    const progress = await remote.loadImage(tar);
    await new Promise<void>((resolve, reject) =>
      remote.modem.followProgress(progress, (err: Error | null, out: { error?: string }[]) => {
        const failed = err ?? out.find((o) => o.error);
        if (failed) reject(failed instanceof Error ? failed : new Error(String(failed.error)));
        else resolve();
      }),
    );
    await remote.getImage(ref).inspect();
    return ref;
  })();
  copying.catch(() => (copying = undefined));
  return copying;
}

/** Force-removes the remote engine's containers carrying all `labels` (never an empty filter). */
export async function cleanupRemoteByLabel(remote: Docker, labels: Record<string, string>): Promise<void> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (label.length === 0) throw new Error('cleanupRemoteByLabel: refusing to remove containers without a label filter');
  const list = await remote.listContainers({ all: true, filters: { label } });
  await Promise.all(
    list
      .filter((c) => Object.entries(labels).every(([k, v]) => c.Labels?.[k] === v))
      .map((c) => remote.getContainer(c.Id).remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      })),
  );
}
