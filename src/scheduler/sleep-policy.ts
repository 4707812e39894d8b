// What happens to a model that must give its GPU back, when it can sleep: pure functions, no I/O.
// A model put to sleep keeps its container (and, for vLLM level 1, its weights in host RAM), so
// its next request wakes it in about a second instead of a cold start. Sleeping models share one
// host-RAM budget (engine.sleepMemory): a model sleeps when the budget has room for it; else the
// least recently used sleeping models are stopped to make room; else it is stopped itself.

export interface SleepingModel {
  id: string;
  /** Host RAM it holds while asleep. */
  memoryBytes: number;
  /** When it went to sleep (or was last used): the oldest is stopped first. */
  since: number;
  /** Being woken (or otherwise needed now): never stopped to make room. */
  protected?: boolean;
}

export interface ReleaseCandidate {
  id: string;
  /** Has a sleep kind configured. */
  canSleep: boolean;
  /** Host RAM it would hold asleep. */
  memoryBytes: number;
}

export type ReleaseDecision =
  | { kind: 'sleep'; stopSleepers: string[]; reason: string }
  | { kind: 'stop'; reason: string };

/**
 * Sleep or stop `model`, given the models asleep now and the budget. A model being woken counts
 * with its memory until its wake is done (a wake and a sleep overlap), so it is passed in
 * `sleeping` with `protected: true`.
 */
export function decideRelease(model: ReleaseCandidate, sleeping: readonly SleepingModel[], budgetBytes: number): ReleaseDecision {
  if (!model.canSleep) return { kind: 'stop', reason: `'${model.id}' has no sleep mode configured` };
  if (model.memoryBytes > budgetBytes) {
    return { kind: 'stop', reason: `'${model.id}' needs ${gib(model.memoryBytes)} of host RAM to sleep, more than engine.sleepMemory (${gib(budgetBytes)})` };
  }
  let free = budgetBytes - sleeping.reduce((sum, s) => sum + s.memoryBytes, 0);
  const stopSleepers: string[] = [];
  const oldestFirst = sleeping.filter((s) => !s.protected).sort((a, b) => a.since - b.since);
  for (const sleeper of oldestFirst) {
    if (free >= model.memoryBytes) break;
    stopSleepers.push(sleeper.id);
    free += sleeper.memoryBytes;
  }
  if (free < model.memoryBytes) {
    return { kind: 'stop', reason: `no room to sleep: engine.sleepMemory (${gib(budgetBytes)}) is held by models being woken` };
  }
  const why = stopSleepers.length
    ? `stopping the least recently used sleeping model(s) ${stopSleepers.map((id) => `'${id}'`).join(', ')} to make room in engine.sleepMemory`
    : `engine.sleepMemory has room (${gib(free - model.memoryBytes)} left after it)`;
  return { kind: 'sleep', stopSleepers, reason: why };
}

/**
 * Release decisions for several models that must go at once (one swap), in order: each one put
 * to sleep counts against the budget for the next.
 */
export function decideReleases(models: readonly ReleaseCandidate[], sleeping: readonly SleepingModel[], budgetBytes: number, now: number): Map<string, ReleaseDecision> {
  const asleep = [...sleeping];
  const out = new Map<string, ReleaseDecision>();
  for (const model of models) {
    const decision = decideRelease(model, asleep, budgetBytes);
    out.set(model.id, decision);
    if (decision.kind === 'sleep') {
      for (const id of decision.stopSleepers) asleep.splice(asleep.findIndex((s) => s.id === id), 1);
      asleep.push({ id: model.id, memoryBytes: model.memoryBytes, since: now, protected: true });
    }
  }
  return out;
}

/** What the two functions below read of a model (a slot, or the plan's view of one). */
export interface SleepSubject {
  id: string;
  status: string;
  waking: boolean;
  sleepingSince?: number;
  model: { sleep?: { memoryBytes: number } };
}

/** A model that must give its GPU back, as the policy sees it. */
export function releaseCandidate(m: SleepSubject): ReleaseCandidate {
  return { id: m.id, canSleep: m.model.sleep !== undefined, memoryBytes: m.model.sleep?.memoryBytes ?? 0 };
}

/** The models asleep (or being woken: protected) as the policy sees them; `protect`: never stopped to make room. */
export function sleepingModels<T extends SleepSubject>(models: Iterable<T>, protect?: ReadonlySet<T>): SleepingModel[] {
  const out: SleepingModel[] = [];
  for (const m of models) {
    if (m.status === 'sleeping' || (m.status === 'starting' && m.waking)) {
      out.push({ id: m.id, memoryBytes: m.model.sleep?.memoryBytes ?? 0, since: m.sleepingSince ?? 0, protected: m.waking || (protect?.has(m) ?? false) });
    }
  }
  return out;
}

/** The default engine.sleepMemory: the engine host's memory minus 8 GiB (never below 0). */
export function defaultSleepMemory(hostMemoryBytes: number): number {
  return Math.max(0, hostMemoryBytes - 8 * 1024 ** 3);
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(bytes % 1024 ** 3 === 0 ? 0 : 1)} GiB`;
