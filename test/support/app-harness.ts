// Builds swapdock around a FakeRuntime for app tests: no engine, real fake-model processes.
import pino from 'pino';
import { startServer, type RunningServer, type StartOptions } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwapdockConfig } from '../../src/config/schema.js';
import { FakeRuntime, type FakeRuntimeOptions } from './fake-runtime.js';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function testConfig(yaml: string): SwapdockConfig {
  return parseConfigText(yaml, 'test config', {});
}

/**
 * swapdock as it serves: the real listening server with the production request path, a fake
 * runtime underneath. `request(path, init)` is `fetch` against it, so tests drive the same
 * routing table, middleware and forwarding that `swapdock serve` runs.
 */
export async function startApp(yaml: string, runtimeOptions: FakeRuntimeOptions | FakeRuntime = {}, options: Pick<StartOptions, 'events'> = {}) {
  const running = await buildServer(yaml, runtimeOptions, options);
  const request = (path: string, init?: RequestInit) => fetch(`${running.url}${path}`, init);
  return { request, url: running.url, runtime: running.runtime, scheduler: running.scheduler, config: running.scheduler.currentConfig, close: running.shutdown };
}

export type TestApp = Awaited<ReturnType<typeof startApp>>;

/** A real listening server (the Node fast path included) on a random loopback port. */
/** `runtime`: options for a new FakeRuntime, or one of the test's own (a subclass that misbehaves on purpose). */
export async function buildServer(yaml: string, runtimeOptions: FakeRuntimeOptions | FakeRuntime = {}, options: Pick<StartOptions, 'events'> = {}): Promise<RunningServer & { runtime: FakeRuntime }> {
  const config = testConfig(yaml);
  config.listen = '127.0.0.1:0';
  const runtime = runtimeOptions instanceof FakeRuntime ? runtimeOptions : new FakeRuntime(runtimeOptions);
  const running = await startServer({ config, log: silentLog, runtime, ...options });
  return { ...running, runtime };
}

export function chat(model: string, extra: Record<string, unknown> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  };
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
