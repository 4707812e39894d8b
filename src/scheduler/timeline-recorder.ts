// Records the GPU timeline (timeline.ts) from the scheduler's events: model status changes become
// segments on the lanes the model is placed on, swaps are kept as marks, and each proxied request
// is one O(1) bucket update (the request path's only cost). Memory is bounded: a ring of segments,
// a ring of swaps, a fixed array of buckets. The scheduler owns one, so it hears every event from
// the first (adoptions at start-up, preloads) and shares the scheduler's clock.
import { RingBuffer } from '../util/ring-buffer.js';
import type { ModelStateEvent, RequestEvent, SchedulerEvents } from './scheduler-events.js';
import { RequestBuckets, SegmentLog, groupIntoLanes, laneIdsOf, poolStandingLanes, standingLanes, type TimelineSwap, type TimelineView } from './timeline.js';

export const TIMELINE_WINDOW_MS = 60 * 60_000;
export const TIMELINE_BUCKET_MS = 10_000;
/** Closed segments kept: four a swap, so an hour of a swap every few seconds. */
export const TIMELINE_MAX_SEGMENTS = 4000;
export const TIMELINE_MAX_SWAPS = 1000;

export interface TimelineRecorderOptions {
  events: SchedulerEvents;
  now: () => number;
  /** Where a model is placed now (the scheduler's snapshot: its engine, visible GPU ids; none in exclusive mode). */
  placementOf: (model: string) => { usesGpu: boolean; engine?: string; devices: readonly string[] } | undefined;
  /** The GPUs of the inventory, if any (of the one engine; a pool's come with each view). */
  gpuIds: () => readonly string[] | undefined;
  /** The configured models (for the lanes shown while idle), with the engines each may use. */
  models: () => Iterable<{ usesGpu: boolean; model?: { engines?: readonly string[] } }>;
  windowMs?: number;
  bucketMs?: number;
  maxSegments?: number;
  maxSwaps?: number;
}

export class TimelineRecorder {
  private readonly segments: SegmentLog;
  private readonly swaps: RingBuffer<TimelineSwap>;
  private readonly buckets: RequestBuckets;
  private readonly windowMs: number;
  private readonly startedAt: number;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: TimelineRecorderOptions) {
    this.windowMs = options.windowMs ?? TIMELINE_WINDOW_MS;
    this.segments = new SegmentLog(options.maxSegments ?? TIMELINE_MAX_SEGMENTS);
    this.swaps = new RingBuffer(options.maxSwaps ?? TIMELINE_MAX_SWAPS);
    this.buckets = new RequestBuckets(options.bucketMs ?? TIMELINE_BUCKET_MS, this.windowMs);
    this.startedAt = options.now();
    const onModel = (event: ModelStateEvent) => {
      const placement = options.placementOf(event.model);
      this.segments.apply(event, placement ? laneIdsOf(placement) : [], placement?.engine ?? event.engine);
    };
    const onSwap = (event: TimelineSwap) => this.swaps.push({ at: event.at, from: [...event.from], to: event.to });
    const onRequest = (event: RequestEvent) => this.buckets.record(event.at, event.status, event.ttftMs);
    const { events } = options;
    events.on('model', onModel);
    events.on('swap', onSwap);
    events.on('request', onRequest);
    this.unsubscribe = () => {
      events.off('model', onModel);
      events.off('swap', onSwap);
      events.off('request', onRequest);
    };
  }

  /**
   * The last hour (or since start-up, when that is shorter), up to now. `engines`: every engine
   * of the pool with its GPUs (Scheduler.engineStates()); with more than one, each lane is an
   * engine's (`tower/gpu:0`), else the lanes are the one engine's, as without a pool.
   */
  view(engines?: readonly { name: string; gpuIds?: readonly string[] }[]): TimelineView {
    const to = this.options.now();
    const from = Math.max(this.startedAt, to - this.windowMs);
    const pooled = engines !== undefined && engines.length > 1;
    const standing = pooled ? poolStandingLanes(engines, this.options.models()) : standingLanes(this.options.gpuIds(), this.options.models());
    return {
      from,
      to,
      bucketMs: this.buckets.bucketMs,
      lanes: groupIntoLanes(standing, this.segments.since(from), pooled),
      swaps: this.swaps.toArray().filter((swap) => swap.at >= from),
      buckets: this.buckets.since(from),
    };
  }

  /** Stops listening (at shutdown). */
  close(): void {
    this.unsubscribe();
  }
}
