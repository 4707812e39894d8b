// Registry names as Docker reads them: what engine.registryAuth's `registry` and an image
// reference name (the config checks duplicates with it; the runtime finds credentials with it).

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** `https://index.docker.io/v1/` → docker.io, `HTTPS://Registry.Example.com:5000/v2/` → registry.example.com:5000. */
export function normalizeRegistry(value: string): string {
  const host = value.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The registry an image reference names, the way Docker reads it (`nginx` and `user/app` are on docker.io). */
export function registryOfImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return normalizeRegistry(first);
  return DOCKER_HUB;
}
