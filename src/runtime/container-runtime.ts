// The port between swapdock and a container engine. The scheduler depends only on this
// interface; `docker-runtime.ts` implements it with dockerode for Docker and Podman, and the
// tests' fake runtime implements it in memory. Every lifecycle call is idempotent: stopping a
// stopped container or removing a missing one succeeds, so retries and shutdown are safe.

export type GpuRequest =
  | { kind: 'all' }
  | { kind: 'count'; count: number }
  | { kind: 'ids'; ids: string[] };

export type PullPolicy = 'missing' | 'always' | 'never';

/** Everything needed to create one model container, engine-neutral. */
export interface ContainerSpec {
  /** Deterministic per model, so two racing creates collide instead of duplicating. */
  name: string;
  image: string;
  pull: PullPolicy;
  /** Arguments appended to the image's entrypoint (Docker `Cmd`). */
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  /** Bind mounts and named volumes, `source:target[:options]`. */
  volumes: string[];
  /** Port the server listens on inside the container. */
  port: number;
  gpus?: GpuRequest;
  shmSizeBytes?: number;
  /** Memory limit; the engine OOM-kills the container beyond it. */
  memoryBytes?: number;
  stopTimeoutMs: number;
  /** When set the container joins this network and is reached by name; else a 127.0.0.1 port is published. */
  network?: string;
  /** Ownership record: managed-by, instance, model id and spec hash. */
  labels: Record<string, string>;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

export interface Endpoint {
  host: string;
  port: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  state: ContainerState;
  labels: Record<string, string>;
  exitCode?: number;
  oomKilled?: boolean;
  /** Where the server inside is reached from swapdock; known once the container runs. */
  endpoint?: Endpoint;
}

export interface EngineInfo {
  kind: 'docker' | 'podman';
  version: string;
  /** Whether GPU containers can run (Docker: an `nvidia` runtime or device driver; Podman: CDI). */
  gpuSupport: boolean;
  /** The engine host's memory (for the default engine.sleepMemory), when the engine reports it. */
  memoryBytes?: number;
}

export interface PullProgress {
  image: string;
  status: string;
  /** 0..1 when the engine reports byte counts. */
  fraction?: number;
}

export type ContainerEventKind = 'died' | 'removed';

/** A managed container died (crashed, was stopped or killed) or was removed, as the engine reported it. */
export interface ContainerEvent {
  kind: ContainerEventKind;
  containerId: string;
  labels: Record<string, string>;
  /** 'died' only, when the engine reported it. */
  exitCode?: number;
  /** 'died' only, when known: Docker reports OOM kills; Podman's compat API does not (exit 137 is the only hint). */
  oomKilled?: boolean;
  /** When the engine saw it, ms since the epoch. */
  at: number;
}

export interface EventSubscription {
  close(): void;
}

/** One line of a container's output. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  /** When the engine received it, ms since the epoch. */
  at: number;
}

export interface FollowLogsOptions {
  /** Ends the iteration (the engine connection is closed). */
  signal: AbortSignal;
  /** Only lines from this time on (ms since the epoch). */
  since?: number;
  /** Only the last this many lines of the history, then the live ones. */
  tail?: number;
}

export interface ContainerRuntime {
  engineInfo(): Promise<EngineInfo>;
  /** Resolves when the engine answers (its `_ping`) within `timeoutMs`; throws EngineUnavailableError otherwise. */
  ping(timeoutMs: number): Promise<void>;
  /** Makes the image present per `spec.pull`; throws ImageUnavailableError when it cannot. */
  ensureImage(spec: ContainerSpec, onProgress?: (p: PullProgress) => void): Promise<void>;
  /** Creates the container, or returns the existing one with the same name and spec-hash label. */
  create(spec: ContainerSpec): Promise<ContainerInfo>;
  /** Starts it (no-op when running) and returns it with its endpoint. */
  start(id: string): Promise<ContainerInfo>;
  /** `undefined` when the container does not exist. */
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutMs`. No-op when not running or missing. */
  stop(id: string, timeoutMs: number): Promise<void>;
  /** Force-removes it and its anonymous volumes. No-op when missing. */
  remove(id: string): Promise<void>;
  /** Containers (any state) carrying all of these labels. */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  /** The last `lines` lines of the container's stdout and stderr, oldest first. */
  logs(id: string, lines: number): Promise<string[]>;
  /**
   * The container's output from its start (or `since` / the last `tail` lines), then live lines
   * as it prints them; ends when the container stops or is removed, or when `signal` fires. A
   * missing container yields nothing. stdout and stderr are told apart (no TTY).
   */
  followLogs(id: string, options: FollowLogsOptions): AsyncIterable<LogLine>;
  /**
   * Streams die/remove events of containers carrying all `labels`. Reconnects by itself (with
   * `since`) after the engine restarts, and calls onReconnect so the caller can re-list;
   * onDisconnect tells that the engine is unreachable (called once per outage).
   */
  watch(
    labels: Record<string, string>,
    handlers: { onEvent(e: ContainerEvent): void; onDisconnect?(err: Error): void; onReconnect?(): void },
  ): EventSubscription;
}
