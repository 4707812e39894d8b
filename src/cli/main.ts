// `swapdock serve | check | schema | ps | load | unload | logs | --version | --help`. Returns the
// process exit code.
import { parseArgs } from 'node:util';
import { VERSION } from '../version.js';
import { CLIENT_COMMANDS, runClientCommand, type ClientCommand } from './client-commands.js';
import { DEFAULT_CONFIG } from './server-url.js';

const HELP = `swapdock ${VERSION} — one OpenAI-compatible endpoint that runs each model as a container

Usage:
  swapdock serve [--config models.yaml] [--listen host:port] [--log-level info] [--log-format json|pretty]
  swapdock check [--config models.yaml] [--json]
  swapdock schema
  swapdock ps [--json]
  swapdock load MODEL [--json]
  swapdock unload MODEL | --all [--force] [--json]
  swapdock logs MODEL [-f] [--json]
  swapdock --version | --help

Commands:
  serve   Start the proxy. Models start on their first request and stop after their idle TTL.
  check   Validate the config and print the containers it would run.
  schema  Print the config's JSON Schema, for completion and checks in editors:
          swapdock schema > swapdock.schema.json
  ps      Every model of the running swapdock: state, devices, VRAM, in flight, queued, last used.
  load    Load a model now (waits until it is ready).
  unload  Stop a model once its requests in flight finish; --all for every model; --force cuts
          requests in flight.
  logs    A model's container output; -f follows it until Ctrl-C.

ps, load, unload and logs talk to a running swapdock: at --url, else SWAPDOCK_URL, else the
listen address of --config (models.yaml when it exists), else http://127.0.0.1:8080. With
auth.keys set they need an admin key in SWAPDOCK_API_KEY. Models are named by id or alias.

The engine is found through engine.host in the config, else DOCKER_HOST, else the usual
Docker and Podman sockets.`;

/** The options each command takes (--help and --version go with any). */
const OPTIONS_OF: Record<string, readonly string[]> = {
  serve: ['config', 'listen', 'log-level', 'log-format'],
  check: ['config', 'json'],
  schema: [],
  ps: ['url', 'config', 'json'],
  load: ['url', 'config', 'json'],
  unload: ['url', 'config', 'json', 'all', 'force'],
  logs: ['url', 'config', 'json', 'follow'],
};

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // An unknown option, or one without its value.
    if (!String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw err;
    const { message } = err as Error;
    return usage(/^Unknown option '[^']*'/.exec(message)?.[0] ?? message.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.version) return print(VERSION);
  return runCommand(values, positionals);
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', short: 'l' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      all: { type: 'boolean' },
      force: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function runCommand(values: ReturnType<typeof parseOptions>['values'], positionals: string[]): Promise<number> {
  const command = positionals[0];
  if (values.help || !command) return print(HELP);
  const allowed = OPTIONS_OF[command];
  if (!allowed) {
    console.error(`Unknown command '${command}'. Run swapdock --help for the commands.`);
    return 2;
  }
  const foreign = Object.keys(values).filter((option) => !allowed.includes(option));
  if (foreign.length > 0) {
    console.error(`swapdock ${command} does not take ${foreign.map((o) => `--${o}`).join(', ')}. Run swapdock --help for the commands.`);
    return 2;
  }
  const extra = positionals.slice(1);
  if (command === 'schema') return extra.length ? usage(`schema takes no arguments, got: ${extra.join(' ')}`) : write((await import('../config/json-schema.js')).configJsonSchemaText());
  if ((CLIENT_COMMANDS as readonly string[]).includes(command)) {
    const { url, config, json = false, all = false, force = false, follow = false } = values;
    return runClientCommand(command as ClientCommand, { args: extra, url, config, json, all, force, follow });
  }
  if (extra.length) return usage(`${command} takes no arguments, got: ${extra.join(' ')}`);

  const configFile = values.config ?? DEFAULT_CONFIG;
  const { ConfigError, loadConfigFile } = await import('../config/load-config.js');
  let config;
  try {
    config = await loadConfigFile(configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 1;
  }
  if (values.listen) config.listen = values.listen;

  // The server's modules load only for the commands that need them: ps and friends start fast.
  if (command === 'check') return print((await import('./describe-config.js')).describeConfig(config, configFile, values.json ?? false));

  const format = values['log-format'];
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    console.error(`--log-format takes json or pretty, not '${format}'.`);
    return 2;
  }
  const [{ createLogger }, { LogTail }, { startServer }] = await Promise.all([import('../util/logger.js'), import('../util/log-tail.js'), import('./start-server.js')]);
  const logTail = new LogTail(config.logs.lines);
  const log = createLogger({ level: values['log-level'], format, tail: logTail });
  const running = await startServer({ config, log, logTail, configFile, overrides: values.listen ? { listen: values.listen } : {} });
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

function write(text: string): number {
  process.stdout.write(text);
  return 0;
}

function usage(message: string): number {
  console.error(`${message}. Run swapdock --help for the commands.`);
  return 2;
}
