// Where the engine is and how to reach it: `engine.host` (or DOCKER_HOST, or the usual sockets)
// becomes dockerode's connection options, and `engine.address` (or its default) the address on
// the engine's host where model ports are published and where swapdock connects to them.
// A local engine publishes on 127.0.0.1; a remote one on the address swapdock reaches it by —
// never on every interface (0.0.0.0), which would expose unauthenticated model servers.

import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { EngineError, errorMessage } from '../errors.js';

export interface EngineTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface EngineConnectionOptions {
  /** `unix:///path`, `tcp://host:port`, `https://host:port` or `ssh://user@host[:port]`; default DOCKER_HOST, else the first socket that exists. */
  host?: string;
  /** Address of the engine's host that swapdock reaches; default: the host of a tcp/ssh URL, 127.0.0.1 for a socket. */
  address?: string;
  /** Client certificate, key and CA (PEM file paths) for a TLS-protected TCP engine. */
  tls?: EngineTlsFiles;
  /** Defaults to process.env (DOCKER_HOST, SSH_AUTH_SOCK, XDG_RUNTIME_DIR). */
  env?: NodeJS.ProcessEnv;
}

export interface EngineConnection {
  /** undefined: dockerode reads DOCKER_HOST (and DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) itself. */
  dockerOptions: Docker.DockerOptions | undefined;
  /** Where the engine is reached (`unix:///…`, `tcp://…`, `ssh://…`), for messages. */
  target: string;
  /** Publish-and-connect address on the engine's host: an IP, or a name swapdock resolves. */
  address: string;
}

const LOCAL_ADDRESS = '127.0.0.1';
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

function bad(message: string): EngineError {
  return new EngineError(message, 'bad_engine_host');
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw bad(`engine.tls.${what}: cannot read '${file}' (${errorMessage(err)}). Give the path of a PEM file readable by swapdock.`);
  }
}

/** ssh2 authenticates with the agent (SSH_AUTH_SOCK) or else the first default key that exists. */
function sshAuth(env: NodeJS.ProcessEnv): Record<string, unknown> {
  if (env.SSH_AUTH_SOCK) return { agent: env.SSH_AUTH_SOCK };
  const home = env.HOME || homedir();
  const key = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home, '.ssh', f)).find((f) => existsSync(f));
  return key ? { privateKey: readFileSync(key) } : {};
}

function defaultSocket(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_RUNTIME_DIR;
  const candidates = ['/var/run/docker.sock', '/run/podman/podman.sock', ...(xdg ? [path.join(xdg, 'podman/podman.sock')] : [])];
  return `unix://${candidates.find((p) => existsSync(p)) ?? candidates[0]}`;
}

/** The host's name as written in the URL, without IPv6 brackets. */
const hostnameOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Connection options, target and publish address for the configured (or environment's) engine. */
export function engineConnection(opts: EngineConnectionOptions = {}): EngineConnection {
  const env = opts.env ?? process.env;
  const fromEnv = opts.host === undefined && Boolean(env.DOCKER_HOST);
  const given = opts.host ?? env.DOCKER_HOST ?? defaultSocket(env);
  // DOCKER_HOST may leave out the scheme (host:port), as the docker CLI allows.
  const host = fromEnv && !given.includes('://') ? `tcp://${given}` : given;
  const checkedAddress = (derived: string): string => {
    const address = opts.address ?? derived;
    if (UNSPECIFIED.has(address)) {
      throw bad(
        `Model ports would be published on ${address} (every interface of the engine's host). Set engine.address to the ` +
          "address of the engine's host that swapdock reaches.",
      );
    }
    return address;
  };

  if (host.startsWith('unix://')) {
    if (opts.tls) throw bad(`engine.tls is for tcp:// hosts; '${host}' is a socket.`);
    const address = checkedAddress(LOCAL_ADDRESS);
    // Dockerode merges DOCKER_HOST defaults under explicit options: override host/socketPath both.
    return { dockerOptions: fromEnv ? undefined : { socketPath: host.slice(7), host: undefined }, target: host, address };
  }

  const asHttp = host.replace(/^tcp:/, 'http:');
  const url = URL.canParse(asHttp) ? new URL(asHttp) : undefined;
  if (!url || !/^(https?|ssh):$/.test(url.protocol) || !url.hostname) {
    throw bad(`The engine host '${host}' is not understood: use unix:///path/to/socket, tcp://host:port or ssh://user@host.`);
  }
  const address = checkedAddress(hostnameOf(url));
  if (url.protocol === 'ssh:') {
    if (opts.tls) throw bad(`engine.tls is for tcp:// hosts; '${host}' is reached over ssh.`);
    // docker-modem runs `docker system dial-stdio` on the remote host through ssh2.
    const dockerOptions = {
      protocol: 'ssh', host: hostnameOf(url), port: Number(url.port) || 22, socketPath: undefined,
      username: decodeURIComponent(url.username) || undefined, sshOptions: sshAuth(env),
    } as Docker.DockerOptions;
    return { dockerOptions: fromEnv ? undefined : dockerOptions, target: host, address };
  }
  // Without explicit TLS files, DOCKER_HOST keeps dockerode's own reading of DOCKER_CERT_PATH.
  if (fromEnv && !opts.tls) return { dockerOptions: undefined, target: host, address };
  const https = url.protocol === 'https:' || opts.tls !== undefined;
  const tls = opts.tls && { ca: readTlsFile(opts.tls.ca, 'ca'), cert: readTlsFile(opts.tls.cert, 'cert'), key: readTlsFile(opts.tls.key, 'key') };
  return {
    dockerOptions: {
      host: hostnameOf(url), port: url.port || (https ? 2376 : 2375), protocol: https ? 'https' : 'http', socketPath: undefined,
      // Explicit, so DOCKER_CERT_PATH of the environment cannot mix in other certificates.
      ca: tls?.ca, cert: tls?.cert, key: tls?.key,
    },
    target: host,
    address,
  };
}

/**
 * The IP to publish on (Docker's HostIp takes no names): an IP as is, a name resolved here —
 * the address swapdock reaches the engine's host by. IPv4 is preferred.
 */
export async function resolvePublishAddress(address: string): Promise<string> {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return bare;
  let found: { address: string; family: number }[];
  try {
    found = await lookup(bare, { all: true });
  } catch (err) {
    throw new EngineError(
      `Cannot resolve '${bare}', the address of the engine's host where model ports are published (${errorMessage(err)}). ` +
        'Set engine.address to an IP address of that host that swapdock can reach.',
      'bad_engine_address',
    );
  }
  const pick = found.find((a) => a.family === 4) ?? found[0];
  if (!pick || UNSPECIFIED.has(pick.address)) {
    throw new EngineError(`'${bare}' resolves to no usable address; set engine.address to an IP of the engine's host.`, 'bad_engine_address');
  }
  return pick.address;
}
