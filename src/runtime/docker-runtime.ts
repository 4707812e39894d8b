// ContainerRuntime over the Docker Engine API (dockerode), for Docker and for Podman's
// Docker-compatible API. This file and its events half, docker-events.ts (watch), are the only
// ones that read raw engine JSON; everything else sees ContainerInfo and ContainerEvent. Engine
// quirks are explained where they are handled.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import './dockerode-lazy-deps.js'; // before dockerode
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type {
  ContainerEvent, ContainerInfo, ContainerRuntime, ContainerSpec, EngineInfo, EventSubscription, FollowLogsOptions, LogLine, PullProgress,
} from './container-runtime.js';
import { demux, followDockerLogs } from './docker-logs.js';
import { EngineError, errorMessage } from '../errors.js';
import {
  ContainerConflictError, ContainerNotFoundError, EngineUnavailableError, GpuUnsupportedError, ImageUnavailableError,
} from './runtime-errors.js';
import { retryUntil, RetryTimeoutError } from '../util/retry-until.js';
import { compatCreateBody, libpodCreateBody } from './docker-create-body.js';
import { watchEngineEvents } from './docker-events.js';
import { toInfo, type RawInspect } from './docker-inspect.js';
import { engineConnection, resolvePublishAddress, type EngineTlsFiles } from './engine-connection.js';
import { runningWithEndpoint } from './start-settle.js';
import { registryOfImage } from '../config/registry-name.js';
import { findRegistryCredentials, type FoundCredentials, type RegistryCredentialSource } from './registry-auth.js';

/** Spec labels are matched by this suffix (`io.swapdock.spec-hash`, see labels.ts) unless `specHashLabel` is given. */
export const SPEC_HASH_LABEL_SUFFIX = 'spec-hash';

export function specHashLabelKey(labels: Record<string, string>, explicit?: string): string | undefined {
  return explicit ?? Object.keys(labels).find((k) => k.endsWith(SPEC_HASH_LABEL_SUFFIX));
}

export interface DockerRuntimeOptions {
  /** `unix:///path`, `tcp://host:port` or `ssh://user@host`; default DOCKER_HOST, else the first socket that exists. */
  host?: string;
  /** Address of the engine's host where ports are published and reached; default see engine-connection.ts. */
  address?: string;
  /** PEM files for a TLS-protected TCP engine (read here, at construction). */
  tls?: EngineTlsFiles;
  log?: Logger;
  /** Label holding the spec hash; default: the spec label whose key ends in `spec-hash`. */
  specHashLabel?: string;
  /** engine.registryAuth (or a function giving the current one); else the Docker/Podman login files. See registry-auth.ts. */
  registryAuth?: RegistryCredentialSource;
  /** Environment for the login files and credential helpers; default process.env. */
  env?: NodeJS.ProcessEnv;
}

type EngineKind = EngineInfo['kind'];
interface DockerodeError extends Error { statusCode?: number; code?: string; json?: unknown }

const OK = { 200: true, 201: true, 204: true, 304: true } as const;
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** An engine call that got an HTTP error: the status and the engine's own message. */
class EngineCallError extends EngineError {
  constructor(
    readonly what: string,
    readonly engineMessage: string,
    status: number,
  ) {
    super(`The container engine failed to ${what} (HTTP ${status}): ${engineMessage}`, 'engine_error', status);
  }
}

const isStatus = (err: unknown, status: number) => err instanceof EngineCallError && err.engineStatus === status;
const hasText = (err: unknown, text: RegExp) => err instanceof EngineCallError && text.test(err.engineMessage);

export class DockerRuntime implements ContainerRuntime {
  /** Where the engine is reached (`unix:///…`, `tcp://…`, `ssh://…`), for messages. */
  readonly target: string;
  /** Where model ports are published on the engine's host and reached from here (IP or name). */
  readonly address: string;
  private readonly docker: Docker;
  private readonly log?: Logger;
  private readonly specHashLabel?: string;
  private readonly registryAuth?: RegistryCredentialSource;
  private readonly env?: NodeJS.ProcessEnv;
  private engine?: Promise<{ kind: EngineKind; version: string }>;
  private publishIp?: Promise<string>;

  constructor(opts: DockerRuntimeOptions = {}) {
    const { dockerOptions, target, address } = engineConnection(opts);
    // Never set dockerode's `version`: Docker 20.10 rejects paths for newer API versions.
    this.docker = new Docker(dockerOptions);
    this.target = target;
    this.address = address;
    this.log = opts.log;
    this.specHashLabel = opts.specHashLabel;
    this.registryAuth = opts.registryAuth;
    this.env = opts.env;
  }

  private wrap(err: unknown, what: string): Error {
    if (err instanceof EngineError) return err;
    const e = err as DockerodeError;
    if (e?.code && UNREACHABLE.has(e.code)) return new EngineUnavailableError(this.target, `${e.code}: ${e.message}`);
    if (typeof e?.statusCode === 'number') {
      const json = e.json as { message?: unknown } | undefined;
      const message = typeof json?.message === 'string' ? json.message : Buffer.isBuffer(e.json) ? e.json.toString()
        : e.message.replace(/^\(HTTP code \d+\) [^-]*- /, ''); // streamed calls keep the cause only in the text
      return new EngineCallError(what, message.trim(), e.statusCode);
    }
    return new EngineError(`The container engine at ${this.target} failed to ${what}: ${errorMessage(err)}`);
  }

  private api<T>(method: 'GET' | 'POST' | 'DELETE', apiPath: string, query: object = {}, body: object = {}, what = `${method} ${apiPath}`): Promise<T> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        { path: `${apiPath}?`, method, options: { _query: query, _body: body }, statusCodes: OK },
        (err, data) => (err ? reject(this.wrap(err, what)) : resolve(data as T)),
      );
    });
  }

  private engineKind(): Promise<{ kind: EngineKind; version: string }> {
    this.engine ??= this.api<{ Version?: string; Components?: { Name?: string; Version?: string }[] }>('GET', '/version').then(
      (v) => {
        const podman = v.Components?.find((c) => c.Name === 'Podman Engine');
        return podman ? { kind: 'podman' as const, version: podman.Version ?? '' } : { kind: 'docker' as const, version: v.Version ?? '' };
      },
    );
    // Don't cache a failure: the engine may come up later.
    this.engine.catch(() => (this.engine = undefined));
    return this.engine;
  }

  /** The IP ports are published on (a name in `address` is resolved once; a failure is not kept). */
  private publishAddress(): Promise<string> {
    this.publishIp ??= resolvePublishAddress(this.address);
    this.publishIp.catch(() => (this.publishIp = undefined));
    return this.publishIp;
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineUnavailableError(this.target, `no answer to a ping within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.api('GET', '/_ping', {}, {}, 'answer a ping'), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async engineInfo(): Promise<EngineInfo> {
    const { kind, version } = await this.engineKind();
    // Best-effort hint, never a guarantee: Docker also runs GPU containers through its `nvidia`
    // device driver, which it enables (invisibly to /info) when the NVIDIA hook is on its PATH.
    // Only start() knows for sure (GpuUnsupportedError). Podman: a local CDI spec for nvidia.com/gpu.
    const info = await this.api<{ Runtimes?: Record<string, unknown>; MemTotal?: number }>('GET', '/info');
    const memoryBytes = typeof info.MemTotal === 'number' && info.MemTotal > 0 ? info.MemTotal : undefined;
    if (kind === 'docker') {
      return { kind, version, memoryBytes, gpuSupport: Object.keys(info.Runtimes ?? {}).some((r) => r.includes('nvidia')) };
    }
    return { kind, version, memoryBytes, gpuSupport: this.target.startsWith('unix://') && hasNvidiaCdiSpec() };
  }

  async ensureImage(spec: ContainerSpec, onProgress?: (p: PullProgress) => void): Promise<void> {
    const present = await this.hasImage(spec.image);
    if (spec.pull === 'never') {
      if (!present) throw new ImageUnavailableError(spec.image, "it is not on the engine and the model's pull policy is 'never'", 'never');
      return;
    }
    if (spec.pull === 'missing' && present) return;
    try {
      await this.pull(spec.image, onProgress);
    } catch (err) {
      if (spec.pull !== 'always' || !present || err instanceof EngineUnavailableError) throw err;
      this.log?.warn({ image: spec.image, err: errorMessage(err) }, 'Pull failed; using the local image');
    }
  }

  private async hasImage(image: string): Promise<boolean> {
    try {
      await this.api('GET', `/images/${image}/json`);
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }

  private async pull(image: string, onProgress?: (p: PullProgress) => void): Promise<void> {
    const layers = new Map<string, { current: number; total: number }>();
    let events: { error?: string; errorDetail?: { message?: string } }[];
    let credentials: FoundCredentials | undefined;
    try {
      credentials = await findRegistryCredentials(image, { configured: this.registryAuth, env: this.env });
    } catch (err) {
      throw new ImageUnavailableError(image, `its registry credentials could not be read: ${errorMessage(err)}`);
    }
    // Never the credentials themselves: only where they came from.
    this.log?.info({ image, registry: registryOfImage(image), credentials: credentials?.source ?? 'none (anonymous)' }, `Pulling image ${image}`);
    try {
      const stream = await this.docker.pull(image, credentials ? { authconfig: credentials.auth } : {});
      events = await new Promise((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out)), (e: {
          status?: string; id?: string; progressDetail?: { current?: number; total?: number };
        }) => {
          if (e.id && e.progressDetail?.total) layers.set(e.id, { current: e.progressDetail.current ?? 0, total: e.progressDetail.total });
          const sums = [...layers.values()].reduce((a, l) => ({ c: a.c + l.current, t: a.t + l.total }), { c: 0, t: 0 });
          onProgress?.({ image, status: [e.id, e.status].filter(Boolean).join(': '), fraction: sums.t ? sums.c / sums.t : undefined });
        }),
      );
    } catch (err) {
      const e = this.wrap(err, `pull ${image}`);
      if (e instanceof EngineUnavailableError) throw e;
      const why = e instanceof EngineCallError ? e.engineMessage : e.message;
      throw new ImageUnavailableError(image, pullFailure(image, why, credentials), undefined, (e as EngineError).engineStatus);
    }
    // Podman (and Docker mid-stream) report pull failures as a 200 stream with an error event.
    const failed = events.find((e) => e.error || e.errorDetail);
    if (failed) throw new ImageUnavailableError(image, pullFailure(image, failed.error ?? failed.errorDetail?.message ?? 'unknown error', credentials));
  }

  async create(spec: ContainerSpec): Promise<ContainerInfo> {
    const { kind } = await this.engineKind();
    // Ports are published on the engine host's address (not needed when the spec joins a network).
    const hostIp = spec.network ? '' : await this.publishAddress();
    try {
      return await retryUntil(() => this.createOnce(spec, kind, hostIp), { timeoutMs: 10_000, maxIntervalMs: 200 });
    } catch (err) {
      if (!(err instanceof RetryTimeoutError)) throw err;
      throw new EngineError(`Could not create container '${spec.name}': the name stayed taken for 10 s by a container that cannot be inspected.`);
    }
  }

  /** The created or reusable container; undefined when the name is taken by one not inspectable yet. */
  private async createOnce(spec: ContainerSpec, kind: EngineKind, hostIp: string): Promise<ContainerInfo | undefined> {
    try {
      // Podman drops DeviceRequests silently; GPUs need its own API with CDI device names.
      const { Id } = spec.gpus && kind === 'podman'
        ? await this.api<{ Id: string }>('POST', '/v4.0.0/libpod/containers/create', {}, libpodCreateBody(spec, hostIp), `create ${spec.name}`)
        : await this.api<{ Id: string }>('POST', '/containers/create', { name: spec.name }, compatCreateBody(spec, hostIp), `create ${spec.name}`);
      this.log?.debug({ containerId: Id, name: spec.name }, 'Created container');
      return (await this.inspect(Id)) ?? { id: Id, name: spec.name, state: 'created', labels: spec.labels };
    } catch (err) {
      if (hasText(err, /no such image|image not known/i)) {
        throw new ImageUnavailableError(spec.image, 'the engine has no such image (ensureImage was not called or it was removed)');
      }
      if (spec.gpus && hasText(err, /CDI|nvidia\.com\/gpu/i)) throw new GpuUnsupportedError(kind, (err as EngineCallError).engineMessage);
      // Name taken: Docker answers 409, Podman 500 "already in use".
      if (!isStatus(err, 409) && !hasText(err, /already in use/i)) throw err;
    }
    // Docker reserves the name before a racing create's container can be inspected, and a
    // container being removed holds it until gone: both show up as 404 here, so retry.
    const existing = await this.inspect(spec.name);
    if (!existing) return undefined;
    const key = specHashLabelKey(spec.labels, this.specHashLabel);
    const want = key ? spec.labels[key] : undefined;
    const have = key ? existing.labels[key] : undefined;
    if (want !== undefined && want === have) return existing;
    throw new ContainerConflictError(spec.name, existing.id, have, want);
  }

  async start(id: string): Promise<ContainerInfo> {
    try {
      await this.api('POST', `/containers/${encodeURIComponent(id)}/start`, {}, {}, `start container ${id}`);
    } catch (err) {
      if (isStatus(err, 404)) throw new ContainerNotFoundError(id);
      // Docker without the NVIDIA toolkit leaves the container `created`; the caller removes it.
      if (hasText(err, /device driver|nvidia|CDI/i)) {
        throw new GpuUnsupportedError((await this.engineKind()).kind, (err as EngineCallError).engineMessage);
      }
      throw err;
    }
    // A container that exits at once may read exited, or running without ports: see start-settle.ts.
    return runningWithEndpoint(id, { inspect: (i) => this.inspect(i), logs: (i, n) => this.logs(i, n) });
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    try {
      return toInfo(await this.api<RawInspect>('GET', `/containers/${encodeURIComponent(id)}/json`, {}, {}, `inspect container ${id}`), this.address);
    } catch (err) {
      if (isStatus(err, 404) || hasText(err, /no such container/i)) return undefined;
      throw err;
    }
  }

  async stop(id: string, timeoutMs: number): Promise<void> {
    // Always pass `t`: Podman would otherwise use the container's StopTimeout, possibly 0.
    const t = Math.max(0, Math.ceil(timeoutMs / 1000));
    try {
      await this.api('POST', `/containers/${encodeURIComponent(id)}/stop`, { t }, {}, `stop container ${id}`);
    } catch (err) {
      // Podman answers 500 "container state improper" for a created/exited container.
      const info = await this.inspect(id);
      if (!info || info.state !== 'running') return;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.api('DELETE', `/containers/${encodeURIComponent(id)}`, { force: true, v: true }, {}, `remove container ${id}`);
      return;
    } catch (err) {
      if (isStatus(err, 404) || hasText(err, /no such container/i)) return;
      if (!hasText(err, /already in progress/i)) throw err;
    }
    // Someone else is removing it: done when it is gone, so the name is free for a new create.
    await retryUntil(async () => ((await this.inspect(id)) ? undefined : true), { timeoutMs: 30_000, maxIntervalMs: 200 });
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const rows = await this.api<{ Id: string }[]>('GET', '/containers/json', { all: true, filters }, {}, 'list containers');
    // Inspect each for exit code and endpoint; one removed meanwhile just drops out.
    const infos = await Promise.all(rows.map((r) => this.inspect(r.Id)));
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  async logs(id: string, lines: number): Promise<string[]> {
    let raw: unknown;
    try {
      raw = await this.api('GET', `/containers/${encodeURIComponent(id)}/logs`, { stdout: true, stderr: true, tail: lines }, {}, `read logs of ${id}`);
    } catch (err) {
      if (isStatus(err, 404) || hasText(err, /no such container/i)) return [];
      throw err;
    }
    // dockerode parses a body that happens to be JSON; logs are text.
    const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw));
    return demux(buf).split('\n').map((l) => l.replace(/\r$/, '')).filter((l, i, all) => l !== '' || i < all.length - 1).slice(-lines);
  }

  followLogs(id: string, options: FollowLogsOptions): AsyncIterable<LogLine> {
    const missing = (err: Error) => isStatus(err, 404) || hasText(err, /no such container/i);
    return followDockerLogs(this.docker, id, options, (err) => this.wrap(err, `follow logs of ${id}`), missing);
  }

  watch(
    labels: Record<string, string>,
    handlers: { onEvent(e: ContainerEvent): void; onDisconnect?(err: Error): void; onReconnect?(): void },
  ): EventSubscription {
    return watchEngineEvents({
      docker: this.docker,
      log: this.log,
      engineKind: async () => (await this.engineKind()).kind,
      inspect: (id) => this.inspect(id),
      wrap: (err) => this.wrap(err, 'watch container events'),
      unreachable: (reason) => new EngineUnavailableError(this.target, reason),
    }, labels, handlers);
  }
}

/** The engine's reason, and which credentials to fix when the registry refused the pull. */
function pullFailure(image: string, why: string, credentials: FoundCredentials | undefined): string {
  if (!/unauthori[sz]ed|authentication required|no basic auth|access denied|denied:|invalid username|\b40[13] (Unauthorized|Forbidden)\b/i.test(why)) return `pulling it failed: ${why}`;
  const registry = registryOfImage(image);
  const fix = credentials
    ? `the credentials from ${credentials.source} were refused: correct them`
    : `no credentials were found for '${registry}': add them to engine.registryAuth (registry: ${registry}) or log in as swapdock's user (docker login ${registry})`;
  return `pulling it failed: ${why} (${fix})`;
}

function hasNvidiaCdiSpec(): boolean {
  for (const dir of ['/etc/cdi', '/var/run/cdi']) {
    try {
      for (const f of readdirSync(dir)) {
        if (/\.(ya?ml|json)$/.test(f) && readFileSync(path.join(dir, f), 'utf8').includes('nvidia.com/gpu')) return true;
      }
    } catch {
      // no such directory: no spec there
    }
  }
  return false;
}
