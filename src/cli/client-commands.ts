// `swapdock ps | load | unload | logs`: commands for a running swapdock, through its admin API.
// Tables and sentences for people; --json prints the server's JSON for scripts. A model may be
// named by id or alias; an unknown one fails with the list of models that exist.
import { EXIT_FAILURE, ClientError, UsageError } from './client-errors.js';
import { renderPs } from './ps-table.js';
import { followLogs, printLogHistory } from './logs-command.js';
import { ServerClient, type ModelView } from './server-client.js';
import { resolveServerUrl } from './server-url.js';

export const CLIENT_COMMANDS = ['ps', 'load', 'unload', 'logs'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export interface ClientOptions {
  /** Positionals after the command. */
  args: string[];
  url?: string;
  /** --config, when given. */
  config?: string;
  json: boolean;
  all: boolean;
  force: boolean;
  follow: boolean;
}

/** Runs the command; returns the exit code. Failures are explained on stderr. */
export async function runClientCommand(command: ClientCommand, options: ClientOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let client: ServerClient | undefined;
  try {
    checkArguments(command, options);
    const { url } = await resolveServerUrl({ url: options.url, config: options.config, env });
    client = new ServerClient(url, env.SWAPDOCK_API_KEY || undefined);
    return await COMMANDS[command](client, options);
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  } finally {
    await client?.close();
  }
}

function checkArguments(command: ClientCommand, { args, all }: ClientOptions): void {
  const wanted = command === 'ps' || (command === 'unload' && all) ? 0 : 1;
  if (command === 'unload' && all && args.length > 0) throw new UsageError(`unload takes a MODEL or --all, not both. Run swapdock --help for the commands.`);
  if (args.length < wanted) {
    const usage = command === 'unload' ? 'swapdock unload MODEL | --all [--force]' : `swapdock ${command} MODEL${command === 'logs' ? ' [-f]' : ''}`;
    throw new UsageError(`${command} needs the model to act on: ${usage}. \`swapdock ps\` lists the models.`);
  }
  if (args.length > wanted) throw new UsageError(`${command} takes ${wanted === 0 ? 'no model' : 'one model'}, got: ${args.join(' ')}. Run swapdock --help for the commands.`);
}

type Command = (client: ServerClient, options: ClientOptions) => Promise<number>;

const COMMANDS: Record<ClientCommand, Command> = {
  async ps(client, { json }) {
    const { raw, view } = await client.models();
    print(json ? JSON.stringify(raw, null, 2) : renderPs(view, Date.now()));
    return 0;
  },

  async load(client, { args, json }) {
    const { model } = await client.resolve(args[0]!);
    if (!json && process.stderr.isTTY && model.status !== 'ready') process.stderr.write(`Loading ${nameOf(model, args[0]!)}: this waits until it is ready…\n`);
    const result = await client.load(model.id);
    if (json) print(JSON.stringify(result, null, 2));
    else if (model.status === 'ready') print(`${nameOf(model, args[0]!)} was already loaded (ready).`);
    else print(`Loaded ${nameOf(model, args[0]!)} in ${formatMs(result.durationMs)}: ${result.status}.`);
    return result.status === 'ready' ? 0 : EXIT_FAILURE;
  },

  async unload(client, { args, all, force, json }) {
    if (all) {
      const before = (await client.models()).view.models.filter(isLoaded).map((m) => m.id);
      const result = await client.unloadAll(force);
      if (json) print(JSON.stringify(result, null, 2));
      else print(before.length ? `Unloaded ${before.join(', ')}${force ? ' (forced: requests in flight were cut)' : ''}.` : 'No model was loaded.');
      return 0;
    }
    const { model } = await client.resolve(args[0]!);
    const result = await client.unload(model.id, force);
    if (json) print(JSON.stringify(result, null, 2));
    else if (!isLoaded(model)) print(`${nameOf(model, args[0]!)} was not loaded (${model.status}).`);
    else print(`Unloaded ${nameOf(model, args[0]!)} in ${formatMs(result.durationMs)}${force ? ' (forced: requests in flight were cut)' : ''}: ${result.status}.`);
    return 0;
  },

  async logs(client, { args, follow, json }) {
    const { model } = await client.resolve(args[0]!);
    if (!follow) {
      printLogHistory(await client.logHistory(model.id), json);
      return 0;
    }
    return followLogs(client, model.id, json);
  },
};

function isLoaded(model: ModelView): boolean {
  return model.status !== 'stopped';
}

/** The id, and the alias the user typed when it was one. */
function nameOf(model: ModelView, typed: string): string {
  return typed === model.id ? model.id : `${model.id} (alias ${typed})`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
