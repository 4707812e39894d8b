import { engineRuntimeUnderTest, networkModeTest, runtimeContract } from './runtime-contract.js';

runtimeContract('DockerRuntime contract on Podman', (t) => engineRuntimeUnderTest('podman', t));
networkModeTest('podman');
