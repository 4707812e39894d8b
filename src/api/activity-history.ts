// The web UI's activity feed, kept on the server so a page (re)load shows recent history and not
// only what happens after: the newest model status changes, load progress, swaps, and engines of
// a pool that went away or came back, in the order they happened. Load progress of one model and
// phase that follows itself (container lines while it starts, pull progress) is kept as its newest
// line only, as the feed shows it; so a chatty start cannot push the status changes out of the
// bounded ring.
import type { EngineStateEvent, LoadProgressEvent, ModelStateEvent, SchedulerEventMap, SchedulerEvents } from '../scheduler/scheduler-events.js';
import { RingBuffer } from '../util/ring-buffer.js';

/** Entries kept (the web UI's feed shows as many). */
export const ACTIVITY_HISTORY = 200;

export type ActivityEntry =
  | { event: 'model'; data: ModelStateEvent }
  | { event: 'load'; data: LoadProgressEvent }
  | { event: 'swap'; data: SchedulerEventMap['swap'][0] }
  | { event: 'engine'; data: EngineStateEvent };

export class ActivityHistory {
  private readonly ring: RingBuffer<ActivityEntry>;
  private readonly unsubscribe: () => void;

  constructor(events: SchedulerEvents, capacity = ACTIVITY_HISTORY) {
    this.ring = new RingBuffer(capacity);
    const onModel = (data: ModelStateEvent) => this.add({ event: 'model', data });
    const onLoad = (data: LoadProgressEvent) => this.add({ event: 'load', data });
    const onSwap = (data: SchedulerEventMap['swap'][0]) => this.add({ event: 'swap', data });
    const onEngine = (data: EngineStateEvent) => this.add({ event: 'engine', data });
    events.on('model', onModel);
    events.on('load', onLoad);
    events.on('swap', onSwap);
    events.on('engine', onEngine);
    this.unsubscribe = () => {
      events.off('model', onModel);
      events.off('load', onLoad);
      events.off('swap', onSwap);
      events.off('engine', onEngine);
    };
  }

  add(entry: ActivityEntry): void {
    const newest = this.ring.newest();
    if (entry.event === 'load' && newest?.event === 'load' && newest.data.model === entry.data.model && newest.data.phase === entry.data.phase) this.ring.replaceNewest(entry);
    else this.ring.push(entry);
  }

  /** Oldest first. */
  entries(): ActivityEntry[] {
    return this.ring.toArray();
  }

  close(): void {
    this.unsubscribe();
  }
}
