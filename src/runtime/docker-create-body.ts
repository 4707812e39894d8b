// Request bodies that create a container from a ContainerSpec: Docker's compat API for both
// engines, and Podman's own libpod API where the compat API falls short (CDI GPU devices, which
// Podman's compat create drops silently). Reading engine JSON stays in docker-runtime.ts.

import path from 'node:path';
import type { ContainerSpec } from './container-runtime.js';

/** Added by the runtime: the in-container port, so the endpoint can be rebuilt from inspect alone. */
export const CONTAINER_PORT_LABEL = 'io.swapdock.container-port';

const envList = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);
const stopSeconds = (spec: ContainerSpec) => Math.max(0, Math.ceil(spec.stopTimeoutMs / 1000));
const allLabels = (spec: ContainerSpec) => ({ ...spec.labels, [CONTAINER_PORT_LABEL]: String(spec.port) });

/** `hostIp`: where the port is published on the engine's host (unused when the spec joins a network). */
export function compatCreateBody(spec: ContainerSpec, hostIp: string): object {
  const portKey = `${spec.port}/tcp`;
  const g = spec.gpus;
  return {
    Image: spec.image,
    Cmd: spec.command,
    Entrypoint: spec.entrypoint,
    Env: envList(spec.env),
    Labels: allLabels(spec),
    ExposedPorts: { [portKey]: {} },
    // Podman stores 0 when this is left out, and then stop() kills at once.
    StopTimeout: stopSeconds(spec),
    HostConfig: {
      // An init as PID 1 forwards SIGTERM: a server as PID 1 without a handler ignores it.
      Init: true,
      Binds: spec.volumes,
      ShmSize: spec.shmSizeBytes,
      Memory: spec.memoryBytes,
      ...(spec.network
        ? { NetworkMode: spec.network }
        : { PortBindings: { [portKey]: [{ HostIp: hostIp, HostPort: '' }] } }),
      DeviceRequests: g && [{
        Driver: 'nvidia',
        Count: g.kind === 'all' ? -1 : g.kind === 'count' ? g.count : undefined,
        DeviceIDs: g.kind === 'ids' ? g.ids : undefined,
        Capabilities: [['gpu']],
      }],
    },
    NetworkingConfig: spec.network ? { EndpointsConfig: { [spec.network]: {} } } : undefined,
  };
}

/** Podman's SpecGenerator; only for GPU specs, whose devices are CDI names (`nvidia.com/gpu=1`). */
export function libpodCreateBody(spec: ContainerSpec, hostIp: string): object {
  const g = spec.gpus!;
  const ids = g.kind === 'all' ? ['all'] : g.kind === 'ids' ? g.ids : Array.from({ length: g.count }, (_, i) => String(i));
  const mounts: object[] = [];
  const volumes: object[] = [];
  for (const v of spec.volumes) {
    const [source = '', destination = '', options = ''] = v.split(':');
    const opts = options ? options.split(',') : [];
    if (source.startsWith('/') || source.startsWith('.')) mounts.push({ type: 'bind', source: path.resolve(source), destination, options: opts });
    else volumes.push({ Name: source, Dest: destination, Options: opts });
  }
  return {
    name: spec.name,
    image: spec.image,
    command: spec.command,
    entrypoint: spec.entrypoint,
    env: spec.env,
    labels: allLabels(spec),
    init: true,
    stop_timeout: stopSeconds(spec),
    shm_size: spec.shmSizeBytes,
    resource_limits: spec.memoryBytes === undefined ? undefined : { memory: { limit: spec.memoryBytes } },
    mounts,
    volumes,
    devices: ids.map((id) => ({ path: `nvidia.com/gpu=${id}` })),
    ...(spec.network
      ? { netns: { nsmode: 'bridge' }, Networks: { [spec.network]: {} } }
      : { portmappings: [{ host_ip: hostIp, container_port: spec.port, host_port: 0, protocol: 'tcp' }] }),
  };
}
