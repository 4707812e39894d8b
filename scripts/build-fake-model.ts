// Build (or find) the fake-model image on one engine and print its tag.
//   DOCKER_HOST=unix:///run/podman/podman.sock npm run build:fake-model
import { ensureFakeModelImage } from '../test/support/fake-model-image.js';

function socketFromEnv(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new Error(`DOCKER_HOST=${host}: only unix:// sockets are supported (the image is imported from a local tar)`);
}

const socketPath = socketFromEnv();
const t0 = performance.now();
try {
  const ref = await ensureFakeModelImage({ socketPath });
  console.error(`fake-model image ready on ${socketPath} in ${Math.round(performance.now() - t0)} ms`);
  console.log(ref);
} catch (err) {
  console.error(`build-fake-model: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
