// The composition root: builds every part from the config and starts listening. Used by
// `swapdock serve`, the demo and the integration tests alike.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SwapdockConfig } from '../config/schema.js';
import { createApp } from '../api/create-app.js';
import { clientErrorListener, createNodeListener, createUpgradeListener } from '../api/node-listener.js';
import { modelAccessCheck } from '../api/auth-gate.js';
import { InferenceProxy } from '../proxy/inference-proxy.js';
import { ModelResolver } from '../proxy/model-resolver.js';
import { UpstreamPools } from '../proxy/upstream-pools.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { NvidiaSmiInventory, type GpuInventory } from '../runtime/gpu-inventory.js';
import { connectEngines } from './connect-engines.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { SchedulerEvents } from '../scheduler/scheduler-events.js';
import { SwapdockMetrics } from '../metrics/swapdock-metrics.js';
import { VERSION } from '../version.js';
import type { ReloadOutcome } from '../api/admin-routes.js';
import { ConfigReloader, logConfigWarnings } from './config-reloader.js';
import { LogTail, teeLogger } from '../util/log-tail.js';
import { LOG_REDACTION } from '../util/logger.js';
import { tuneGarbageCollector } from '../util/gc-tuning.js';

export interface RunningServer {
  url: string;
  server: Server;
  scheduler: Scheduler;
  /** Re-reads the config file; undefined without one. */
  reload?: (trigger: string) => Promise<ReloadOutcome>;
  /** Stops accepting, drains requests in flight (bounded), stops the model containers. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  config: SwapdockConfig;
  log: Logger;
  /** The one engine's runtime instead of connecting to it (tests). */
  runtime?: ContainerRuntime;
  /** Each engine's runtime by name instead of connecting (tests of a pool). */
  runtimes?: Record<string, ContainerRuntime>;
  /** How often each engine of a pool is pinged (tests shorten it). */
  engineHeartbeatMs?: number;
  /** Where GPUs are detected when the config lists none; default nvidia-smi. */
  inventory?: GpuInventory;
  /** The config file, for hot reload (file changes, SIGHUP, POST /api/reload). */
  configFile?: string;
  /** Command-line settings that win over the file on reload. */
  overrides?: { listen?: string };
  reloadPollIntervalMs?: number;
  /** Where the logger also keeps its recent lines (createLogger's `tail`); absent: `log` is teed into a new one. */
  logTail?: LogTail;
  /** The scheduler's event bus, for a caller that must hear events from the first one (preloads at start-up). */
  events?: SchedulerEvents;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  tuneGarbageCollector(); // before the first request: no per-request object born in the old generation
  const { config } = options;
  const logTail = options.logTail ?? new LogTail(config.logs.lines);
  const log = options.logTail ? options.log : teeLogger(options.log, logTail, LOG_REDACTION);
  logConfigWarnings(config, log);
  // Registry credentials are looked up per pull in the config in force (a reload may rotate them).
  let scheduler: Scheduler | undefined;
  const inventory = options.inventory ?? new NvidiaSmiInventory();
  const engines = await connectEngines({
    config,
    log,
    current: () => scheduler?.currentConfig ?? config,
    inventory,
    runtimes: options.runtimes ?? (options.runtime ? { [config.engines[0]!.name]: options.runtime } : undefined),
  });
  scheduler = new Scheduler({ engines, config, log, inventory, events: options.events, engineHeartbeatMs: options.engineHeartbeatMs });
  await scheduler.adoptLeftovers();
  const resolver = new ModelResolver(config);
  const pools = new UpstreamPools();
  const access = modelAccessCheck(() => scheduler.currentConfig);
  const proxy = new InferenceProxy({ scheduler, resolver, pools, log, access });
  const reloader = options.configFile
    ? new ConfigReloader({ file: options.configFile, scheduler, resolver, log, overrides: options.overrides, pollIntervalMs: options.reloadPollIntervalMs })
    : undefined;
  const reload = reloader && ((trigger: string) => reloader.reload(trigger));
  const metrics = new SwapdockMetrics(scheduler);
  const app = createApp({ config, scheduler, proxy, resolver, log, version: VERSION, access, reload: reload && (() => reload('POST /api/reload')), metrics, logTail });
  // Node would answer a head over maxHeaderSize, or a malformed one, with an empty 400: the
  // clientError listener answers with JSON instead.
  const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: config.limits.maxHeaderBytes, requireHostHeader: false }, createNodeListener(app));
  server.on('upgrade', createUpgradeListener(app));
  server.on('clientError', clientErrorListener(config.limits.maxHeaderBytes));

  const { host, port } = splitHostPort(config.listen);
  warnIfOpenToNetwork(config, host, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, models: [...config.models.keys()] }, `swapdock ${VERSION} listening on ${url}`);
  scheduler.startBackground();
  reloader?.watchFile();

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      log.info('Shutting down: no new requests; waiting for requests in flight');
      reloader?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await scheduler.shutdown(config.shutdownTimeoutMs);
      metrics.close();
      server.closeAllConnections();
      await closed;
      await pools.closeAll();
      log.info('Shutdown complete');
    })());
  return { url, server, scheduler, reload, shutdown };
}

/** No API keys on an address other hosts can reach: anyone there may use every model. Say so, loudly. */
export function warnIfOpenToNetwork(config: SwapdockConfig, host: string, log: Logger): boolean {
  if (config.auth.keys.length > 0 || isLoopback(host)) return false;
  log.warn(
    { listen: config.listen },
    `SECURITY: swapdock listens on ${config.listen}, which other machines can reach, and no API keys are configured: ` +
      'anyone on the network can use every model, load and unload models (/api) and read the logs. ' +
      'Add keys under auth.keys in the config (one with admin: true for /api, /ui and /metrics), or listen on 127.0.0.1 only.',
  );
  return true;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const index = listen.lastIndexOf(':');
  return { host: listen.slice(0, index).replace(/^\[|\]$/g, ''), port: Number(listen.slice(index + 1)) };
}
