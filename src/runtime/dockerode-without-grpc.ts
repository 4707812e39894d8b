// dockerode loads gRPC and protobuf at require time, for BuildKit sessions (image builds with
// secrets). swapdock never builds images, and the two libraries hold about 10 MB of memory for
// the process's life. Before dockerode loads, this puts stand-ins for them in the require cache
// that load the real module the first time anything is read from it, so nothing breaks if a
// session is ever used. Imported for its effect, before 'dockerode' (docker-runtime.ts).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function deferUntilUsed(id: string, from: string): void {
  let resolved: string;
  try {
    resolved = require.resolve(id, { paths: [from] });
  } catch {
    return; // not installed where dockerode looks: nothing to defer
  }
  if (require.cache[resolved]) return; // already loaded by someone else
  let real: Record<PropertyKey, unknown> | undefined;
  const load = () => {
    if (!real) {
      delete require.cache[resolved];
      real = require(resolved) as Record<PropertyKey, unknown>;
    }
    return real;
  };
  const exports = new Proxy({}, { get: (_target, prop) => load()[prop], has: (_target, prop) => prop in load() });
  require.cache[resolved] = { id: resolved, filename: resolved, loaded: true, exports } as NodeJS.Module;
}

const dockerodeDir = path.dirname(require.resolve('dockerode'));
deferUntilUsed('@grpc/grpc-js', dockerodeDir);
deferUntilUsed('@grpc/proto-loader', dockerodeDir);
