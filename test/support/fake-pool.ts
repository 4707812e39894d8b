// A pool of two fake engines for app tests: 'tower' (one 24 GiB GPU) and 'rack' (two 48 GiB GPUs),
// each a FakeRuntime, behind the real listening server (startServer), pinged every 50 ms so an
// engine that goes away (FakeRuntime.goAway) is noticed at once.
import { startServer, type RunningServer } from '../../src/cli/start-server.js';
import { silentLog, testConfig } from './app-harness.js';
import { FakeRuntime } from './fake-runtime.js';

/** The engines and defaults of the pool; append a `models:` section. */
export const POOL_ENGINES = `
engines:
  - name: tower
    host: unix:///run/tower.sock
    gpus: [{ id: 0, vram: 24g }]
  - name: rack
    host: tcp://10.0.0.12:2375
    gpus: [{ id: 0, vram: 48g }, { id: 1, vram: 48g }]
defaults: { ttl: 0, stopTimeout: 1s }
`;

export interface FakePool {
  server: RunningServer;
  tower: FakeRuntime;
  rack: FakeRuntime;
  /** Shuts swapdock down, then ends the containers an engine that stayed away still holds. */
  close(): Promise<void>;
}

/** `yaml`: POOL_ENGINES plus models. Runtimes may be given (e.g. one already gone away). */
export async function startFakePool(yaml: string, runtimes?: { tower?: FakeRuntime; rack?: FakeRuntime }): Promise<FakePool> {
  const config = testConfig(yaml);
  config.listen = '127.0.0.1:0';
  const tower = runtimes?.tower ?? new FakeRuntime({ target: 'unix:///run/tower.sock' });
  const rack = runtimes?.rack ?? new FakeRuntime({ target: 'tcp://10.0.0.12:2375' });
  const server = await startServer({ config, log: silentLog, runtimes: { tower, rack }, engineHeartbeatMs: 50 });
  return {
    server,
    tower,
    rack,
    async close() {
      await server.shutdown();
      // A container on an engine that went away was never stopped: its fake-model process would outlive the test.
      for (const runtime of [tower, rack]) {
        runtime.comeBack();
        await runtime.shutdown();
      }
    },
  };
}
