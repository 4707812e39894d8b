// Which leftover containers a restarted swapdock may adopt as they are: pure. A container is
// adopted when it runs, belongs to a configured model, and its spec hash equals the hash of the
// spec the current config would create (on the same GPUs); every other one is removed.
import type { ContainerInfo } from '../runtime/container-runtime.js';
import { LABEL_DEVICES, LABEL_MODEL, LABEL_SPEC_HASH } from '../runtime/labels.js';

export interface Adoption {
  modelId: string;
  container: ContainerInfo;
  devices: string[];
}

export interface AdoptionPlan {
  adopt: Adoption[];
  remove: { container: ContainerInfo; reason: string }[];
}

/**
 * `expectedHash(model, devices)`: the spec hash for that model now, or undefined when not configured.
 * `taken(model)`: why the model may not adopt a container (it runs elsewhere already), else undefined.
 */
export function planAdoption(
  containers: readonly ContainerInfo[],
  expectedHash: (modelId: string, devices: string[]) => string | undefined,
  taken: (modelId: string) => string | undefined = () => undefined,
): AdoptionPlan {
  const plan: AdoptionPlan = { adopt: [], remove: [] };
  const adopted = new Set<string>();
  for (const container of containers) {
    const modelId = container.labels[LABEL_MODEL] ?? '';
    const devices = container.labels[LABEL_DEVICES] ? container.labels[LABEL_DEVICES].split(',') : [];
    const expected = expectedHash(modelId, devices);
    const reason =
      expected === undefined ? `model '${modelId}' is no longer configured`
      : container.state !== 'running' || !container.endpoint ? `it is ${container.state}, not running`
      : container.labels[LABEL_SPEC_HASH] !== expected ? `the config of '${modelId}' changed`
      : adopted.has(modelId) ? `'${modelId}' already has a container`
      : taken(modelId);
    if (reason) plan.remove.push({ container, reason });
    else {
      adopted.add(modelId);
      plan.adopt.push({ modelId, container, devices });
    }
  }
  return plan;
}
