// Builds swapdock around a FakeRuntime for app tests: no engine, real fake-model processes.
import pino from 'pino';
import { createApp } from '../../src/api/create-app.js';
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwapdockConfig } from '../../src/config/schema.js';
import { InferenceProxy } from '../../src/proxy/inference-proxy.js';
import { ModelResolver } from '../../src/proxy/model-resolver.js';
import { UpstreamPools } from '../../src/proxy/upstream-pools.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { FakeRuntime, type FakeRuntimeOptions } from './fake-runtime.js';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function testConfig(yaml: string): SwapdockConfig {
  return parseConfigText(yaml, 'test config', {});
}

export function buildApp(yaml: string, runtimeOptions: FakeRuntimeOptions = {}) {
  const config = testConfig(yaml);
  const runtime = new FakeRuntime(runtimeOptions);
  const scheduler = new Scheduler({ runtime, config, log: silentLog, devices: config.gpus });
  const resolver = new ModelResolver(config);
  const pools = new UpstreamPools();
  const proxy = new InferenceProxy({ scheduler, resolver, pools, log: silentLog });
  const app = createApp({ config, scheduler, proxy, resolver, log: silentLog, version: 'test' });
  scheduler.startBackground();
  const close = async () => {
    await scheduler.shutdown(1000);
    await pools.closeAll();
  };
  return { app, runtime, scheduler, config, close };
}

/** A real listening server (the Node fast path included) on a random loopback port. */
export async function buildServer(yaml: string, runtimeOptions: FakeRuntimeOptions = {}): Promise<RunningServer & { runtime: FakeRuntime }> {
  const config = testConfig(yaml);
  config.listen = '127.0.0.1:0';
  const runtime = new FakeRuntime(runtimeOptions);
  const running = await startServer({ config, log: silentLog, runtime });
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
