// Swap policy: pure functions, no I/O and no logging. The scheduler's machinery applies them.
import type { ModelStatus } from './model-state.js';
import { isResident } from './model-state.js';

export interface ModelView {
  id: string;
  usesGpu: boolean;
  status: ModelStatus;
}

export interface EvictionDecision {
  evict: string[];
  reason: string;
}

/**
 * GPU models are exclusive: loading one evicts every other resident GPU model.
 * CPU-only models run beside anything and never cause or suffer a GPU swap.
 */
export function evictionFor(target: ModelView, models: readonly ModelView[]): EvictionDecision {
  if (!target.usesGpu) return { evict: [], reason: 'CPU-only models run beside the others' };
  const evict = models.filter((m) => m.id !== target.id && m.usesGpu && isResident(m.status)).map((m) => m.id);
  return {
    evict,
    reason: evict.length
      ? `GPU models are exclusive: '${target.id}' needs the GPU held by ${evict.map((id) => `'${id}'`).join(', ')}`
      : 'no other GPU model is loaded',
  };
}
