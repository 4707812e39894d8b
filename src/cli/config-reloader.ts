// Hot reload of the config file: on a change of the file (polled, since inotify misses changes
// on bind mounts), on SIGHUP, or on POST /api/reload. A config with errors is rejected whole and
// every problem logged; the running config stays in force.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import type { ReloadOutcome } from '../api/admin-routes.js';
import { ConfigError, loadConfigFile } from '../config/load-config.js';
import type { SwapdockConfig } from '../config/schema.js';
import { sleepWarnings } from '../config/sleep-schema.js';
import type { ModelResolver } from '../proxy/model-resolver.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface ReloaderOptions {
  file: string;
  scheduler: Scheduler;
  resolver: ModelResolver;
  log: Logger;
  /** Settings given on the command line, which win over the file (e.g. --listen). */
  overrides?: Partial<Pick<SwapdockConfig, 'listen'>>;
  pollIntervalMs?: number;
}

export class ConfigReloader {
  private running: Promise<ReloadOutcome> = Promise.resolve({ reloaded: false });
  private readonly onFileChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) void this.reload('the file changed');
  };

  constructor(private readonly options: ReloaderOptions) {}

  /** Reloads once; concurrent calls run one after another. */
  reload(trigger: string): Promise<ReloadOutcome> {
    this.running = this.running.then(() => this.reloadNow(trigger), () => this.reloadNow(trigger));
    return this.running;
  }

  private async reloadNow(trigger: string): Promise<ReloadOutcome> {
    const { file, scheduler, resolver, log, overrides } = this.options;
    log.info({ file, trigger }, `Reloading ${file} (${trigger})`);
    let next: SwapdockConfig;
    try {
      next = await loadConfigFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error({ file, issues: err.issues }, `${err.message}\nKeeping the running config.`);
      return { reloaded: false, issues: err.issues };
    }
    Object.assign(next, overrides);
    const summary = scheduler.reload(next);
    resolver.update(next);
    logConfigWarnings(next, log);
    return { reloaded: true, summary };
  }

  watchFile(): void {
    watchFile(this.options.file, { interval: this.options.pollIntervalMs ?? 2000, persistent: false }, this.onFileChange);
  }

  close(): void {
    unwatchFile(this.options.file, this.onFileChange);
  }
}

/**
 * What `swapdock check` warns about (settings that load but will not work as meant), as warnings
 * in the log: at start-up and after each reload. A warning about one model carries its id.
 */
export function logConfigWarnings(config: Pick<SwapdockConfig, 'engines' | 'pool' | 'models'>, log: Logger): void {
  // A warning about a model starts "models.<id>: "; ids hold no spaces, so one id matches at most.
  const ids = [...config.models.keys()];
  for (const warning of sleepWarnings(config)) {
    const model = ids.find((id) => warning.startsWith(`models.${id}: `));
    log.warn(model === undefined ? {} : { model }, warning);
  }
}
