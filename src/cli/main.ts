// `swapdock serve | check | schema | --version | --help`. Returns the process exit code.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load-config.js';
import { configJsonSchemaText } from '../config/json-schema.js';
import { createLogger } from '../util/logger.js';
import { LogTail } from '../util/log-tail.js';
import { VERSION } from '../version.js';
import { describeConfig } from './describe-config.js';
import { startServer } from './start-server.js';

const HELP = `swapdock ${VERSION} — one OpenAI-compatible endpoint that runs each model as a container

Usage:
  swapdock serve [--config models.yaml] [--listen host:port] [--log-level info] [--log-format json|pretty]
  swapdock check [--config models.yaml] [--json]
  swapdock schema
  swapdock --version | --help

Commands:
  serve   Start the proxy. Models start on their first request and stop after their idle TTL.
  check   Validate the config and print the containers it would run.
  schema  Print the config's JSON Schema, for completion and checks in editors:
          swapdock schema > swapdock.schema.json

The engine is found through engine.host in the config, else DOCKER_HOST, else the usual
Docker and Podman sockets.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'models.yaml' },
      listen: { type: 'string', short: 'l' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      json: { type: 'boolean', default: false },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.version) return print(VERSION);
  const command = positionals[0];
  if (values.help || !command) return print(HELP);
  if (command === 'schema') {
    process.stdout.write(configJsonSchemaText());
    return 0;
  }
  if (command !== 'serve' && command !== 'check') {
    console.error(`Unknown command '${command}'. Run swapdock --help for the commands.`);
    return 2;
  }

  let config;
  try {
    config = await loadConfigFile(values.config!);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 1;
  }
  if (values.listen) config.listen = values.listen;

  if (command === 'check') return print(describeConfig(config, values.config!, values.json ?? false));

  const format = values['log-format'];
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    console.error(`--log-format takes json or pretty, not '${format}'.`);
    return 2;
  }
  const logTail = new LogTail(config.logs.lines);
  const log = createLogger({ level: values['log-level'], format, tail: logTail });
  const running = await startServer({ config, log, logTail, configFile: values.config!, overrides: values.listen ? { listen: values.listen } : {} });
  process.on('SIGHUP', () => void running.reload?.('SIGHUP'));
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal }, `Received ${signal}`);
      running.shutdown().then(resolve, (err) => {
        log.error({ err: String(err) }, 'Shutdown failed; some containers may still run');
        resolve();
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  log.flush();
  return 0;
}

function print(text: string): number {
  console.log(text);
  return 0;
}
