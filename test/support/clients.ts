// Helpers for test/clients: which client versions are installed, and what a model's fake backend
// and swapdock saw (the request log of GET /fake/requests, in-flight counts, container logs).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineSwapdock } from './engine-harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The installed version of a package (its own package.json: exports maps may hide it from import). */
export function installedVersion(pkg: string): string {
  const manifest = JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** "ai@7.0.185, @ai-sdk/anthropic@4.0.112": for test names, so a report says what was tested. */
export function versions(...pkgs: string[]): string {
  return pkgs.map((p) => `${p}@${installedVersion(p)}`).join(', ');
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
}

/** The last (up to 20) /v1/* requests a model's backend received, oldest first; loads the model if needed. */
export async function backendRequests(sd: EngineSwapdock, model: string): Promise<SeenRequest[]> {
  const res = await fetch(`${sd.url}/upstream/${encodeURIComponent(model)}/fake/requests`);
  if (res.status !== 200) throw new Error(`GET /upstream/${model}/fake/requests: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { recent: SeenRequest[] }).recent;
}

export async function clearBackendRequests(sd: EngineSwapdock, model: string): Promise<void> {
  const res = await fetch(`${sd.url}/upstream/${encodeURIComponent(model)}/fake/requests`, { method: 'DELETE' });
  if (res.status !== 200) throw new Error(`DELETE /upstream/${model}/fake/requests: ${res.status} ${await res.text()}`);
}

/** The chat completion requests among them (what a translated /v1/messages became, too). */
export const chatRequests = (seen: SeenRequest[]) => seen.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/chat/completions'));

/** GET /api/models' in-flight count of a model. */
export async function inFlight(sd: EngineSwapdock, model: string): Promise<number> {
  const res = await fetch(`${sd.url}/api/models`);
  const { models } = (await res.json()) as { models: Array<{ id: string; inFlight: number }> };
  const found = models.find((m) => m.id === model);
  if (!found) throw new Error(`GET /api/models lists no '${model}'`);
  return found.inFlight;
}

/** Polls until `check` holds (or throws its last failure after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The stdout+stderr of a model's container so far (the fake backend logs client disconnects there). */
export async function containerLog(sd: EngineSwapdock, model: string): Promise<string> {
  const id = sd.scheduler.snapshotOf(model)?.containerId;
  if (!id) throw new Error(`'${model}' has no container`);
  const buf = (await sd.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Without a TTY each frame has an 8-byte header; the text is all this needs.
  return buf.toString('utf8');
}
