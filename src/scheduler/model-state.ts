// A model's lifecycle as an explicit transition table, so an impossible move is a bug we see.

export type ModelStatus = 'stopped' | 'starting' | 'ready' | 'stopping' | 'failed';

const ALLOWED: Record<ModelStatus, readonly ModelStatus[]> = {
  stopped: ['starting', 'ready'],
  starting: ['ready', 'failed', 'stopping', 'stopped'],
  ready: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  failed: ['starting', 'stopping', 'stopped'],
};

export function canTransition(from: ModelStatus, to: ModelStatus): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** Statuses in which a container exists and holds (or is about to hold) resources. */
export function isResident(status: ModelStatus): boolean {
  return status === 'starting' || status === 'ready';
}
