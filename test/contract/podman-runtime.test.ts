import { fastExitTest, networkModeTest } from './engine-only-contract.js';
import { engineRuntimeUnderTest, runtimeContract } from './runtime-contract.js';

runtimeContract('DockerRuntime contract on Podman', (t) => engineRuntimeUnderTest('podman', t));
networkModeTest('podman');
fastExitTest('podman');
