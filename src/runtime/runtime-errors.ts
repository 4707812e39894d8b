// Typed errors of the runtime layer. They carry the data callers act on (exit code, last log
// lines, timeout) and say in the message what happened and what to do; the HTTP mapping comes
// from EngineError (503). Only docker-runtime.ts and the fake runtime throw the engine-specific
// ones; wait-for-ready.ts throws ContainerExitedError and ReadinessTimeoutError.

import { EngineError } from '../errors.js';

function logTail(lines: string[], max = 10): string {
  return lines.length ? ` Last log lines: ${lines.slice(-max).join(' | ')}` : '';
}

/** The image is not present and could not be (or may not be) pulled. */
export class ImageUnavailableError extends EngineError {
  constructor(
    readonly image: string,
    readonly reason: string,
    readonly pullPolicy?: 'missing' | 'always' | 'never',
    engineStatus?: number,
  ) {
    const pullHint =
      pullPolicy === 'never'
        ? 'or set `pull: missing` and make the registry reachable'
        : 'or check the image name and tag and make its registry reachable from the engine';
    super(
      `Image '${image}' is not available: ${reason}. Build it or load it on this engine ` +
        `(\`docker build\`, \`docker load\` / \`podman load\`), ${pullHint}.`,
      'image_unavailable',
      engineStatus,
    );
  }
}

/** The engine cannot give the container GPUs: no NVIDIA runtime/driver (Docker) or no CDI spec (Podman). */
export class GpuUnsupportedError extends EngineError {
  constructor(
    readonly engineKind: 'docker' | 'podman',
    readonly engineMessage: string,
  ) {
    const fix =
      engineKind === 'podman'
        ? 'install the NVIDIA Container Toolkit (nvidia-container-toolkit) and generate a CDI spec with ' +
          '`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`'
        : 'install the NVIDIA Container Toolkit (nvidia-container-toolkit), run `nvidia-ctk runtime configure ' +
          '--runtime=docker` and restart the Docker daemon';
    super(
      `The ${engineKind === 'podman' ? 'Podman' : 'Docker'} engine cannot give this container NVIDIA GPUs ` +
        `(engine said: ${engineMessage.trim()}). To fix it, ${fix}; or remove \`gpus\` from the model to run it on the CPU.`,
      'gpu_unsupported',
    );
  }
}

/** The container stopped (crashed, exited, was removed) while it was expected to run. */
export class ContainerExitedError extends EngineError {
  constructor(
    readonly containerId: string,
    readonly exitCode: number | undefined,
    readonly oomKilled: boolean,
    readonly lastLogLines: string[],
  ) {
    const id = containerId.slice(0, 12);
    const what =
      exitCode === undefined
        ? `The container ${id} disappeared (it was removed) before it became ready.`
        : oomKilled
          ? `The container ${id} was killed for running out of memory (OOM, exit code ${exitCode}) before it became ready; ` +
            "raise the model's `memory` limit (or the host's memory) or use a smaller model."
          : exitCode === 137
            ? // Podman does not always report OOM kills: 137 is then the only hint.
              `The container ${id} was killed (exit 137): out of memory or SIGKILL; raise \`memory\` or lower ` +
              "the model's usage. It had not become ready yet."
            : `The container ${id} exited with code ${exitCode} before it became ready.`;
    super(
      `${what}${logTail(lastLogLines)}`,
      'container_exited',
    );
  }
}

/** The server in the container did not answer its health check in time. */
export class ReadinessTimeoutError extends EngineError {
  constructor(
    readonly containerId: string,
    readonly timeoutMs: number,
    readonly url: string,
    readonly lastLogLines: string[],
  ) {
    super(
      `The container ${containerId.slice(0, 12)} did not answer 200 on ${url} within ${timeoutMs} ms. ` +
        `Raise the model's start timeout if it loads slowly, or check its logs.${logTail(lastLogLines)}`,
      'readiness_timeout',
    );
  }
}

/** The engine's socket or TCP endpoint cannot be reached. */
export class EngineUnavailableError extends EngineError {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(
      `Cannot reach the container engine at ${target} (${reason}). Start Docker or the Podman API service ` +
        '(`podman system service --time=0`), or point swapdock at the right socket with `engine.host` in the ' +
        'config or the DOCKER_HOST environment variable.',
      'engine_unavailable',
    );
    this.retryAfterSeconds = 5;
  }
}

/** A container with the wanted name exists but was created from a different spec. */
export class ContainerConflictError extends EngineError {
  constructor(
    readonly containerName: string,
    readonly existingId: string,
    readonly existingHash: string | undefined,
    readonly wantedHash: string | undefined,
  ) {
    super(
      `A container named '${containerName}' (${existingId.slice(0, 12)}) already exists with a different spec ` +
        `(spec hash ${existingHash ?? 'none'}, wanted ${wantedHash ?? 'none'}). Remove it to create the new one.`,
      'container_conflict',
      409,
    );
  }
}

/** The container does not exist (for operations that need it, like start). */
export class ContainerNotFoundError extends EngineError {
  constructor(readonly containerId: string) {
    super(`The container ${containerId} does not exist (it was removed). Create it again.`, 'container_not_found', 404);
  }
}
