// Labels are the record of what swapdock owns. The spec hash decides whether an existing
// container may be reused as it is (same hash) or must be replaced (config changed).

export const LABEL_MANAGED_BY = 'io.swapdock.managed-by';
export const LABEL_INSTANCE = 'io.swapdock.instance';
export const LABEL_MODEL = 'io.swapdock.model';
export const LABEL_SPEC_HASH = 'io.swapdock.spec-hash';
/** GPUs the scheduler placed the model on (comma-separated), so a restart can adopt it there. */
export const LABEL_DEVICES = 'io.swapdock.devices';
export const MANAGED_BY_VALUE = 'swapdock';

/** Labels that select every container one swapdock instance owns. */
export function ownershipLabels(instance: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_INSTANCE]: instance };
}
