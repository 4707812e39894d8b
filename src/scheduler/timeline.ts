// The GPU timeline's data (GET /api/timeline, the web UI's picture of the last hour), as pure,
// bounded structures without a clock: which model held each lane (a GPU, the one pseudo GPU of
// exclusive mode, or the CPU) in which state and when, and per-bucket request counts and time
// to first token. The recorder (timeline-recorder.ts) feeds them from the scheduler's events.
// With a pool of several engines every lane belongs to one engine (GPU ids are per engine: '0'
// on tower and '0' on rack are two GPUs), so its id is prefixed by the engine: `tower/gpu:0`.
// With one engine the ids stay as they were (`gpu:0`, `gpu`, `cpu`).
import type { ModelStatus } from './model-state.js';
import { RingBuffer } from '../util/ring-buffer.js';

/** A model's state on the timeline: `loading` covers a cold start and a wake. */
export type TimelineState = 'loading' | 'ready' | 'sleeping' | 'stopping';

export interface TimelineSegment {
  model: string;
  state: TimelineState;
  /** ms epoch; clipped to the window's start. */
  from: number;
  /** ms epoch; absent while the model is still in this state. */
  to?: number;
  /** A `loading` that wakes a sleeping container (no cold start). */
  wake?: true;
  /** The model failed (crashed, or its start failed) and so left this state. */
  failed?: true;
}

/** A segment with the lanes it occupies (a model on two GPUs is on two lanes). */
export interface PlacedSegment extends TimelineSegment {
  /** Lane ids on its engine (`gpu:0`, `gpu`, `cpu`), without the engine. */
  lanes: readonly string[];
  /** The engine those lanes are on; undefined when not known. */
  engine?: string;
}

export interface LaneSpec {
  /**
   * `gpu:<id>` for a GPU of the inventory, `gpu` for exclusive mode's one pseudo GPU, `cpu`;
   * with several engines prefixed by the engine's name and a slash (`tower/gpu:0`, `rack/cpu`).
   */
  id: string;
  kind: 'gpu' | 'cpu';
  /** The engine, for lanes of a pool of several engines. */
  engine?: string;
  /** The GPU's id, for lanes of real GPUs. */
  device?: string;
  label: string;
}

export interface TimelineLane extends LaneSpec {
  segments: TimelineSegment[];
}

export interface TimelineSwap {
  at: number;
  from: string[];
  to: string;
}

export interface TimelineBucket {
  /** The bucket's start, ms epoch. */
  at: number;
  requests: number;
  /** Answers with a status of 500 or more (a failed load, a timeout in the queue, a crash). */
  errors: number;
  ttftMsAvg?: number;
  ttftMsMax?: number;
}

export interface TimelineView {
  from: number;
  to: number;
  bucketMs: number;
  lanes: TimelineLane[];
  swaps: TimelineSwap[];
  /** Buckets with at least one request, oldest first. */
  buckets: TimelineBucket[];
}

const STATE_OF: Partial<Record<ModelStatus, TimelineState>> = { starting: 'loading', ready: 'ready', sleeping: 'sleeping', stopping: 'stopping' };

/** The lane ids of a model placed on `devices` (visible GPU ids; none in exclusive mode or on the CPU). */
export function laneIdsOf(placement: { usesGpu: boolean; devices: readonly string[] }): string[] {
  if (placement.devices.length > 0) return placement.devices.map((d) => `gpu:${d}`);
  return [placement.usesGpu ? 'gpu' : 'cpu'];
}

/** The lanes to show even when idle: each GPU of the inventory (else the pseudo GPU when a model uses one), the CPU when a model runs there. */
export function standingLanes(gpuIds: readonly string[] | undefined, models: Iterable<{ usesGpu: boolean }>): string[] {
  let gpu = false;
  let cpu = false;
  for (const model of models) {
    if (model.usesGpu) gpu = true;
    else cpu = true;
  }
  const lanes = gpuIds?.length ? gpuIds.map((id) => `gpu:${id}`) : gpu ? ['gpu'] : [];
  if (cpu) lanes.push('cpu');
  return lanes;
}

/** The standing lanes of a pool: each engine's, from its GPUs and the models that may run there, prefixed by its name. */
export function poolStandingLanes(
  engines: readonly { name: string; gpuIds?: readonly string[] }[],
  models: Iterable<{ usesGpu: boolean; model?: { engines?: readonly string[] } }>,
): string[] {
  const all = [...models];
  return engines.flatMap(({ name, gpuIds }) =>
    standingLanes(gpuIds, all.filter((m) => !m.model?.engines || m.model.engines.includes(name))).map((lane) => engineLane(name, lane)),
  );
}

/** A lane of `engine` (`gpu:0` on tower is `tower/gpu:0`). */
export function engineLane(engine: string, lane: string): string {
  return `${engine}/${lane}`;
}

/** An engine's name (no '/' or ':' in it, config.engines[].name) before the first slash. */
const ENGINE_PREFIX = /^([a-z0-9][a-z0-9_.-]*)\/(.+)$/;

export function laneSpec(id: string): LaneSpec {
  const pooled = ENGINE_PREFIX.exec(id);
  if (pooled) {
    const engine = pooled[1]!;
    const spec = laneSpec(pooled[2]!);
    return { ...spec, id, engine, label: `${engine} · ${spec.label}` };
  }
  if (id === 'cpu') return { id, kind: 'cpu', label: 'CPU' };
  if (id === 'gpu') return { id, kind: 'gpu', label: 'GPU' };
  const device = id.slice('gpu:'.length);
  return { id, kind: 'gpu', device, label: `GPU ${device}` };
}

/**
 * Each model's states as segments: the open one per model, and closed ones in a ring (the
 * oldest dropped beyond `capacity`, so memory stays bounded however much a model thrashes).
 */
export class SegmentLog {
  private readonly open = new Map<string, PlacedSegment>();
  private readonly closed: RingBuffer<PlacedSegment>;

  constructor(capacity: number) {
    this.closed = new RingBuffer(capacity);
  }

  /** A status change of `model` at `at`; `lanes`: where it is placed now, on `engine`. */
  apply(change: { model: string; from: ModelStatus; to: ModelStatus; at: number }, lanes: readonly string[], engine?: string): void {
    const previous = this.open.get(change.model);
    if (previous) {
      previous.to = change.at;
      if (change.to === 'failed') previous.failed = true;
      this.closed.push(previous);
      this.open.delete(change.model);
    }
    const state = STATE_OF[change.to];
    if (!state) return;
    // Devices are kept until the model stops; a status without any (none known yet) stays where it was.
    const where = lanes.length ? lanes : (previous?.lanes ?? lanes);
    const segment: PlacedSegment = { model: change.model, state, from: change.at, lanes: where };
    const on = engine ?? previous?.engine;
    if (on !== undefined) segment.engine = on;
    if (state === 'loading' && change.from === 'sleeping') segment.wake = true;
    this.open.set(change.model, segment);
  }

  /** Segments that overlap [since, ∞), oldest first, open ones last; `from` clipped to `since`. */
  since(since: number): PlacedSegment[] {
    const out: PlacedSegment[] = [];
    for (const segment of [...this.closed.toArray(), ...this.open.values()]) {
      if (segment.to !== undefined && segment.to < since) continue;
      out.push(segment.from < since ? { ...segment, from: since } : segment);
    }
    return out;
  }
}

/**
 * Requests per time bucket in fixed typed arrays: a request costs one O(1) update, nothing is
 * allocated, and a bucket's slot is reused once it has aged out of the ring.
 */
export class RequestBuckets {
  private readonly slots: number;
  private readonly index: Float64Array;
  private readonly requests: Uint32Array;
  private readonly errors: Uint32Array;
  private readonly ttftCount: Uint32Array;
  private readonly ttftSum: Float64Array;
  private readonly ttftMax: Float64Array;

  constructor(
    readonly bucketMs: number,
    windowMs: number,
  ) {
    this.slots = Math.ceil(windowMs / bucketMs) + 1; // the window, and the bucket under way
    this.index = new Float64Array(this.slots).fill(-1);
    this.requests = new Uint32Array(this.slots);
    this.errors = new Uint32Array(this.slots);
    this.ttftCount = new Uint32Array(this.slots);
    this.ttftSum = new Float64Array(this.slots);
    this.ttftMax = new Float64Array(this.slots);
  }

  record(at: number, status: number, ttftMs: number | undefined): void {
    const index = Math.floor(at / this.bucketMs);
    const slot = index % this.slots;
    const held = this.index[slot]!;
    if (held !== index) {
      if (held > index) return; // older than everything the ring still holds
      this.index[slot] = index;
      this.requests[slot] = 0;
      this.errors[slot] = 0;
      this.ttftCount[slot] = 0;
      this.ttftSum[slot] = 0;
      this.ttftMax[slot] = 0;
    }
    this.requests[slot]!++;
    if (status >= 500) this.errors[slot]!++;
    if (ttftMs !== undefined) {
      this.ttftCount[slot]!++;
      this.ttftSum[slot]! += ttftMs;
      if (ttftMs > this.ttftMax[slot]!) this.ttftMax[slot] = ttftMs;
    }
  }

  /** Buckets with requests whose start is at or after the bucket holding `since`, oldest first. */
  since(since: number): TimelineBucket[] {
    const first = Math.floor(since / this.bucketMs);
    const out: TimelineBucket[] = [];
    for (let slot = 0; slot < this.slots; slot++) {
      const index = this.index[slot]!;
      if (index < first || this.requests[slot] === 0) continue;
      const bucket: TimelineBucket = { at: index * this.bucketMs, requests: this.requests[slot]!, errors: this.errors[slot]! };
      const count = this.ttftCount[slot]!;
      if (count > 0) {
        bucket.ttftMsAvg = Math.round((this.ttftSum[slot]! / count) * 10) / 10;
        bucket.ttftMsMax = Math.round(this.ttftMax[slot]! * 10) / 10;
      }
      out.push(bucket);
    }
    return out.sort((a, b) => a.at - b.at);
  }
}

/**
 * The lanes of a view: the standing ones in order, then any other lane a segment is on; each with
 * its segments. `pooled` (several engines): a segment's lanes are its engine's, and lanes are
 * kept together by engine, in the order the standing lanes list the engines.
 */
export function groupIntoLanes(standing: readonly string[], segments: readonly PlacedSegment[], pooled = false): TimelineLane[] {
  const lanes = new Map<string, TimelineLane>();
  for (const id of standing) lanes.set(id, { ...laneSpec(id), segments: [] });
  const extra: string[] = [];
  for (const { lanes: local, engine, ...segment } of segments) {
    for (const id of pooled && engine !== undefined ? local.map((lane) => engineLane(engine, lane)) : local) {
      let lane = lanes.get(id);
      if (!lane) {
        lanes.set(id, (lane = { ...laneSpec(id), segments: [] }));
        extra.push(id);
      }
      lane.segments.push(segment);
    }
  }
  // Lanes no longer standing (a GPU removed by a reload, a model that moved to the CPU): GPUs first, by id.
  const order = [...standing, ...extra.sort(byLane)];
  if (pooled) {
    const rank = new Map<string | undefined, number>();
    for (const id of order) if (!rank.has(lanes.get(id)!.engine)) rank.set(lanes.get(id)!.engine, rank.size);
    order.sort((a, b) => rank.get(lanes.get(a)!.engine)! - rank.get(lanes.get(b)!.engine)!); // stable: the order within an engine stays
  }
  return order.map((id) => lanes.get(id)!);
}

function byLane(a: string, b: string): number {
  const rank = (id: string) => (laneSpec(id).kind === 'gpu' ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b, undefined, { numeric: true });
}
