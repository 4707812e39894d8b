// dockerode loads modules at require time that swapdock rarely or never uses: gRPC and protobuf
// for BuildKit sessions (image builds with secrets; swapdock never builds images), and ssh2 for
// `ssh://` engines (docker-modem's ssh agent). Together they held about 20 MB of memory for the
// process's life. Before dockerode loads, this puts stand-ins for them in the require cache that
// load the real module the first time it is used, so nothing breaks when it is: an `ssh://`
// engine loads ssh2 on its first connection. Imported for its effect, before 'dockerode'
// (docker-runtime.ts).
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
  let real: ((...args: unknown[]) => unknown) & Record<PropertyKey, unknown>;
  const load = () => {
    if (!real) {
      delete require.cache[resolved];
      real = require(resolved);
    }
    return real;
  };
  // A function target, so that a module exporting a function (docker-modem's ssh agent) can be called.
  const exports = new Proxy(function deferredModule() {}, {
    get: (_target, prop) => load()[prop],
    has: (_target, prop) => prop in load(),
    apply: (_target, self, args) => load().apply(self, args),
    construct: (_target, args) => new (load() as unknown as new (...a: unknown[]) => object)(...args),
  });
  require.cache[resolved] = { id: resolved, filename: resolved, loaded: true, exports } as NodeJS.Module;
}

const dockerodeDir = path.dirname(require.resolve('dockerode'));
deferUntilUsed('@grpc/grpc-js', dockerodeDir);
deferUntilUsed('@grpc/proto-loader', dockerodeDir);
// docker-modem's lib/ssh.js reads ssh2's Client at its top level: defer that file, not ssh2.
const modemLib = path.dirname(require.resolve('docker-modem', { paths: [dockerodeDir] }));
deferUntilUsed(path.join(modemLib, 'ssh.js'), modemLib);
