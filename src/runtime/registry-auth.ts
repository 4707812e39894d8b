// Credentials for pulling private images. The engine does not read the client's logins: the
// Docker CLI (and Podman's compat API) receive them from the caller in X-Registry-Auth, so
// swapdock looks them up per pull, first in `engine.registryAuth`, then in the Docker config of
// the user swapdock runs as ($DOCKER_CONFIG/config.json, else ~/.docker/config.json: `auths`,
// `credHelpers`, `credsStore`), then in Podman's auth file ($REGISTRY_AUTH_FILE, else
// $XDG_RUNTIME_DIR/containers/auth.json). Files are read at each pull, so a `docker login`
// counts without a restart. Nothing here logs or returns a secret in a message.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { DOCKER_HUB, normalizeRegistry, registryOfImage } from '../config/registry-name.js';
import { errorMessage } from '../errors.js';

/** One `engine.registryAuth` entry. */
export interface RegistryCredential {
  /** Registry host[:port] as written in image names, e.g. ghcr.io, registry.example.com:5000, docker.io. */
  registry: string;
  username: string;
  /** A password or an access token. */
  password: string;
}

/** What the engine gets in X-Registry-Auth (Docker's AuthConfig). */
export interface EngineAuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

export interface FoundCredentials {
  auth: EngineAuthConfig;
  /** Where they came from, for logs: `engine.registryAuth`, a file path, or a credential helper's name. */
  source: string;
}

/** The key Docker's own tools file Docker Hub credentials under. */
const HUB_CONFIG_KEY = 'https://index.docker.io/v1/';
const HELPER_TIMEOUT_MS = 10_000;

export type RegistryCredentialSource = readonly RegistryCredential[] | (() => readonly RegistryCredential[] | undefined);

export interface RegistryAuthOptions {
  /** engine.registryAuth, or a function giving the current one (hot reload). */
  configured?: RegistryCredentialSource;
  /** Defaults to process.env (DOCKER_CONFIG, HOME, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, PATH). */
  env?: NodeJS.ProcessEnv;
}

/** Credentials for the registry of `image`, or undefined (an anonymous pull). */
export async function findRegistryCredentials(image: string, options: RegistryAuthOptions = {}): Promise<FoundCredentials | undefined> {
  const registry = registryOfImage(image);
  const env = options.env ?? process.env;
  const configured = typeof options.configured === 'function' ? options.configured() : options.configured;
  const entry = configured?.find((c) => normalizeRegistry(c.registry) === registry);
  if (entry) {
    return { auth: { username: entry.username, password: entry.password, serveraddress: serverAddress(registry) }, source: 'engine.registryAuth' };
  }
  return (await fromDockerConfig(registry, env)) ?? fromAuthFile(podmanAuthFile(env), registry);
}

function serverAddress(registry: string): string {
  return registry === DOCKER_HUB ? HUB_CONFIG_KEY : registry;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function readAuthFile(file: string | undefined): AuthFile | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // no such file: no logins there
  }
  try {
    return JSON.parse(text) as AuthFile;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${errorMessage(err)}); fix or remove it, or give the credentials in engine.registryAuth`);
  }
}

function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker'), 'config.json');
}

function podmanAuthFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined;
}

function entryFor(auths: AuthFile['auths'], registry: string) {
  return Object.entries(auths ?? {}).find(([key]) => normalizeRegistry(key) === registry)?.[1];
}

function fromAuthFile(file: string | undefined, registry: string, parsed = readAuthFile(file)): FoundCredentials | undefined {
  const entry = entryFor(parsed?.auths, registry);
  if (!entry || !file) return undefined;
  const serveraddress = serverAddress(registry);
  if (entry.identitytoken) return { auth: { identitytoken: entry.identitytoken, serveraddress }, source: file };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { auth: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress }, source: file };
  }
  if (entry.username && entry.password) return { auth: { username: entry.username, password: entry.password, serveraddress }, source: file };
  return undefined;
}

async function fromDockerConfig(registry: string, env: NodeJS.ProcessEnv): Promise<FoundCredentials | undefined> {
  const file = dockerConfigFile(env);
  const parsed = readAuthFile(file);
  if (!parsed) return undefined;
  const helperKey = Object.keys(parsed.credHelpers ?? {}).find((k) => normalizeRegistry(k) === registry);
  const helper = helperKey ? parsed.credHelpers![helperKey] : parsed.credsStore;
  if (helper) {
    const found = await fromHelper(helper, registry, env);
    if (found) return found;
  }
  return fromAuthFile(file, registry, parsed);
}

/** `docker-credential-<helper> get`, given the server address on stdin; undefined when it has none. */
function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<FoundCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const serveraddress = serverAddress(registry);
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        // "credentials not found" is the helper's normal answer for a registry it has no login for.
        if (/not found/i.test(`${stdout} ${err.message}`) && (err as NodeJS.ErrnoException).code !== 'ENOENT') return resolve(undefined);
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is not installed (not on PATH)' : `it failed (${err.message.split('\n')[0]})`;
        return reject(new Error(`the Docker config names the credential helper '${program}' for ${registry}, but ${why}`));
      }
      try {
        const out = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!out.Secret) return resolve(undefined);
        const auth: EngineAuthConfig = out.Username === '<token>'
          ? { identitytoken: out.Secret, serveraddress }
          : { username: out.Username, password: out.Secret, serveraddress };
        resolve({ auth, source: program });
      } catch {
        reject(new Error(`the credential helper '${program}' answered something that is not JSON`));
      }
    });
    child.stdin?.end(serveraddress);
  });
}
