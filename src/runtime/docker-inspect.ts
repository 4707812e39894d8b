// Raw `GET /containers/{id}/json` (Docker and Podman's compat API) to ContainerInfo: state,
// exit code, labels and the endpoint swapdock connects to. With docker-runtime.ts and
// docker-events.ts the only place that reads raw engine JSON.

import type { ContainerInfo, ContainerState } from './container-runtime.js';
import { CONTAINER_PORT_LABEL } from './docker-create-body.js';

// Raw engine JSON: only the fields read here.
interface RawPortBinding { HostIp?: string; HostPort?: string }
export interface RawInspect {
  Id: string;
  Name?: string;
  State?: { Status?: string; ExitCode?: number; OOMKilled?: boolean };
  Config?: { Labels?: Record<string, string> | null };
  HostConfig?: { PortBindings?: Record<string, RawPortBinding[] | null> | null };
  NetworkSettings?: { Ports?: Record<string, RawPortBinding[] | null> | null };
}

const STATES: Record<string, ContainerState> = {
  created: 'created', configured: 'created', initialized: 'created', running: 'running', paused: 'paused',
  restarting: 'restarting', removing: 'removing', exited: 'exited', stopped: 'exited', stopping: 'running', dead: 'dead',
};

/**
 * `engineAddress`: where a port bound on every interface (HostIp empty or 0.0.0.0; swapdock never
 * creates those) is reached — 127.0.0.1 for a local engine, the engine host's address for a remote one.
 */
export function toInfo(raw: RawInspect, engineAddress: string): ContainerInfo {
  const name = (raw.Name ?? '').replace(/^\//, '');
  const { [CONTAINER_PORT_LABEL]: portLabel, ...labels } = raw.Config?.Labels ?? {};
  const state = STATES[raw.State?.Status ?? ''] ?? 'dead';
  const info: ContainerInfo = { id: raw.Id, name, state, labels };
  if (state === 'exited' || state === 'dead') {
    info.exitCode = raw.State?.ExitCode;
    info.oomKilled = raw.State?.OOMKilled ?? false;
  }
  if (state !== 'running') return info;
  const port = Number(portLabel) || undefined;
  // Podman lists exposed-only ports with a null binding: only real bindings mean "published".
  const wanted = Object.keys(raw.HostConfig?.PortBindings ?? {}).filter((k) => raw.HostConfig?.PortBindings?.[k]?.length);
  if (port && wanted.length === 0) {
    info.endpoint = { host: name, port }; // joined a network: reached by name
  } else {
    const ports = raw.NetworkSettings?.Ports ?? {};
    const binding = (ports[port ? `${port}/tcp` : wanted[0] ?? ''] ?? []).find((b) => b.HostPort);
    if (binding) {
      const host = !binding.HostIp || binding.HostIp === '0.0.0.0' || binding.HostIp === '::' ? engineAddress : binding.HostIp;
      info.endpoint = { host, port: Number(binding.HostPort) };
    }
  }
  return info;
}
