// The container engines swapdock runs models on: `engine:` (one engine, with the top-level
// `gpus:`) or `engines:` (a pool, each entry with its own `name` and `gpus`). A config has one
// form or the other; both resolve to `SwapdockConfig.engines`, a list of EngineConfig.
import { z } from 'zod';
import { normalizeRegistry } from './registry-name.js';
import { size } from './value-schemas.js';

/** The name of the one engine of a config written with `engine:`. */
export const DEFAULT_ENGINE = 'default';

const ENGINE_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

const deviceId = z.union([z.string().min(1), z.number().int().min(0)]).transform(String);

export const gpuDevice = z.strictObject({
  id: deviceId.describe('Device index or UUID as the NVIDIA runtime knows it'),
  vram: size.describe('Memory of this GPU, e.g. 24g'),
});

/** The keys `engine:` and every `engines:` entry share. */
const engineKeys = {
  host: z
    .string()
    .regex(/^(unix|tcp|http|https|ssh):\/\//, 'write unix:///path/to/socket, tcp://host:port or ssh://user@host')
    .optional()
    .describe('Engine API address; default DOCKER_HOST, else the usual Docker/Podman sockets'),
  address: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'write an IP address or host name, without a port')
    .refine((a) => !['0.0.0.0', '::', '[::]'].includes(a), 'never every interface: give an address of the engine host that swapdock reaches')
    .optional()
    .describe("Address of the engine's host where model ports are published and swapdock connects; default: the host of a tcp:// or ssh:// engine.host, 127.0.0.1 for a socket"),
  tls: z
    .strictObject({
      ca: z.string().min(1).describe('CA certificate (PEM file) that signed the engine\'s certificate'),
      cert: z.string().min(1).describe('Client certificate (PEM file)'),
      key: z.string().min(1).describe('Client private key (PEM file)'),
    })
    .optional()
    .describe('TLS for a tcp:// engine (dockerd --tlsverify); the files are read at start-up'),
  network: z.string().default('').describe('When set, containers join this network and are reached by name'),
  registryAuth: z
    .array(
      z.strictObject({
        registry: z
          .string()
          .regex(/^([a-z][a-z0-9+.-]*:\/\/)?[A-Za-z0-9.-]+(:\d+)?\/?[^\s]*$/, 'write the registry host as in image names, e.g. ghcr.io or registry.example.com:5000')
          .describe('Registry host[:port] as written in image names (docker.io for Docker Hub)'),
        username: z.string().min(1).describe('User name (for a token: the name the registry expects with it)'),
        password: z.string().min(1).describe('Password or access token; write ${ENV_VAR} to read it from the environment. Redacted wherever the config is shown'),
      }),
    )
    .default([])
    .describe("Credentials for pulling private images, per registry; a registry not listed uses the Docker config (~/.docker/config.json) of swapdock's user"),
  sleepMemory: size
    .optional()
    .describe("Host RAM that sleeping models may hold in total (their sleep.memory), e.g. 64g; default: the engine's total memory minus 8g"),
};

type EngineKeys = z.output<z.ZodObject<typeof engineKeys>>;

/** tls only with a tcp:// host; each registry once in registryAuth. `tlsKey` names tls in the message. */
function checkEngine(tlsKey: string) {
  return (engine: EngineKeys, ctx: z.RefinementCtx) => {
    if (engine.tls && engine.host && !/^(tcp|https):/.test(engine.host)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `${tlsKey} is for tcp:// hosts, not '${engine.host}'` });
    }
    const seen = new Map<string, number>();
    engine.registryAuth.forEach((entry, index) => {
      const key = normalizeRegistry(entry.registry);
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['registryAuth', index, 'registry'], message: `'${entry.registry}' is the same registry as entry ${first}; give each registry once` });
      else seen.set(key, index);
    });
  };
}

/** `engine:` — the one engine of a config without `engines:`. */
export const engineSchema = z
  .strictObject(engineKeys)
  .superRefine(checkEngine('engine.tls'))
  .describe('The container engine (one engine); for several, write engines: instead');

/** The top-level `gpus:` of a config with `engine:`. */
export const hostGpus = z
  .array(gpuDevice)
  .min(1)
  .describe("The host's GPUs (with engine:); absent = detected with nvidia-smi, else GPU models are simply exclusive");

/** One entry of `engines:`. */
const poolEngineSchema = z
  .strictObject({
    name: z
      .string()
      .regex(ENGINE_NAME, 'engine names start with a lowercase letter or digit and use lowercase letters, digits, ., _ and -')
      .describe('Name of this engine in the pool (unique): models.*.engines, /api, the metrics and the UI use it'),
    ...engineKeys,
    gpus: z
      .array(gpuDevice)
      .min(1)
      .optional()
      .describe("This engine's GPUs, e.g. [{ id: 0, vram: 24g }]; absent = GPU models are exclusive on it (no nvidia-smi detection in a pool)"),
  })
  .superRefine(checkEngine('tls'));

/** `engines:` — a pool of engines, instead of `engine:` and the top-level `gpus:`. */
export const poolSchema = z
  .array(poolEngineSchema)
  .min(1, 'list at least one engine, e.g. - { name: tower, host: unix:///var/run/docker.sock }; for a single engine you may write engine: instead')
  .describe('Several engines as one pool (instead of engine: and the top-level gpus): models are placed on any engine they may use by free VRAM');

/** `models.*.engines`. */
export const modelEngines = z
  .array(z.string().min(1))
  .min(1, 'list at least one engine name, or remove engines (absent = any engine)')
  .describe('Names of the engines (engines[].name) this model may run on, e.g. those its volumes exist on; absent = any. With engine: the only name is default');

export interface GpuDevice {
  id: string;
  vramBytes: number;
}

/** One engine of the pool, with every default applied: what the runtime and scheduler work from. */
export interface EngineConfig {
  /** Pool member name (unique, [a-z0-9][a-z0-9_.-]*); 'default' for a config written with `engine:`. */
  name: string;
  /** Engine API address; undefined = DOCKER_HOST, else the usual sockets. */
  host?: string;
  /** Where model ports are published and swapdock connects; undefined = derived from host. */
  address?: string;
  tls?: { ca: string; cert: string; key: string };
  /** '' = containers publish their port on `address`; else they join this network. */
  network: string;
  registryAuth: { registry: string; username: string; password: string }[];
  /** Bytes; undefined = that engine's total memory minus 8g, resolved at runtime. */
  sleepMemory?: number;
  /** This engine's GPUs; undefined = detected with nvidia-smi (only for a config with `engine:`), else GPU models are exclusive on it. */
  gpus?: GpuDevice[];
}

interface ParsedForms {
  engine?: EngineKeys;
  gpus?: { id: string; vram: number }[];
  engines?: (EngineKeys & { name: string; gpus?: { id: string; vram: number }[] })[];
}

export interface EngineIssue {
  path: (string | number)[];
  message: string;
}

/** One form or the other, and each name once. */
export function checkEngineForms(config: ParsedForms): EngineIssue[] {
  const issues: EngineIssue[] = [];
  if (!config.engines) return issues;
  if (config.engine) {
    issues.push({
      path: ['engine'],
      message: 'engine and engines cannot both be set: a config has one engine (engine: and the top-level gpus) or a pool (engines:). Move these keys into an entry of engines, or remove engines',
    });
  }
  if (config.gpus) {
    issues.push({
      path: ['gpus'],
      message: 'the top-level gpus and engines cannot both be set: in a pool each engine lists its own gpus. Move these GPUs into the gpus of their engine in engines, or remove engines',
    });
  }
  const seen = new Map<string, number>();
  config.engines.forEach((engine, index) => {
    const first = seen.get(engine.name);
    if (first !== undefined) {
      issues.push({ path: ['engines', index, 'name'], message: `engine name '${engine.name}' is already used by engines[${first}]; give each engine its own name` });
    } else seen.set(engine.name, index);
  });
  return issues;
}

const toDevices = (gpus: { id: string; vram: number }[] | undefined) => (gpus ? { gpus: gpus.map((g) => ({ id: g.id, vramBytes: g.vram })) } : {});

/** `engines:` as written, or `engine:` + `gpus:` as the one engine named 'default'. */
export function resolveEngines(parsed: ParsedForms): { engines: EngineConfig[]; pool: boolean } {
  if (parsed.engines) {
    return { pool: true, engines: parsed.engines.map(({ gpus, ...engine }) => ({ ...engine, ...toDevices(gpus) })) };
  }
  const engine = parsed.engine ?? { network: '', registryAuth: [] };
  return { pool: false, engines: [{ name: DEFAULT_ENGINE, ...engine, ...toDevices(parsed.gpus) }] };
}
