// A model's lifecycle as an explicit transition table, so an impossible move is a bug we see.
// `sleeping`: its container runs but has given the GPU back (weights in host RAM or dropped);
// it is entered when the sleep call begins, and left by a wake (→ starting), a stop, or a crash.

export type ModelStatus = 'stopped' | 'starting' | 'ready' | 'sleeping' | 'stopping' | 'failed';

const ALLOWED: Record<ModelStatus, readonly ModelStatus[]> = {
  stopped: ['starting', 'ready', 'sleeping'], // ready / sleeping: a running container adopted
  starting: ['ready', 'failed', 'stopping', 'stopped'],
  ready: ['stopping', 'failed', 'sleeping'],
  sleeping: ['starting', 'stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  // ready / sleeping: its container found running again when its engine of a pool answers again (adopted)
  failed: ['starting', 'stopping', 'stopped', 'ready', 'sleeping'],
};

export function canTransition(from: ModelStatus, to: ModelStatus): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** Statuses in which a container exists and holds (or is about to hold) resources. */
export function isResident(status: ModelStatus): boolean {
  return status === 'starting' || status === 'ready';
}
