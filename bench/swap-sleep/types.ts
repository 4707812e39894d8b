// Shared types of bench:swap (bench/swap-sleep.ts).
import type { ModelStateEvent } from '../../src/scheduler/scheduler-events.js';
import type { Boot, EngineCall, HttpCall, LogEvent } from './observe.js';

export const MODELS = ['a', 'b'] as const;
export type Mode = 'cold' | 'sleep-l1' | 'sleep-l2';
export const MODE_TITLES: Record<Mode, string> = { cold: 'cold (no sleep)', 'sleep-l1': 'sleep level 1', 'sleep-l2': 'sleep level 2' };

export interface Settings {
  /** Timed switches per mode (A, B, A, B…: each request switches models). */
  switches: number;
  /** Warm requests per model after its first load (their median is the backend's own answer time). */
  warm: number;
  /** FAKE_LISTEN_DELAY_MS: the cold load (the port opens after it). */
  coldMs: number;
  /** FAKE_SLEEP_DELAY_MS, FAKE_WAKE_DELAY_MS, FAKE_RELOAD_DELAY_MS. */
  sleepMs: number;
  wakeMs: number;
  reloadMs: number;
  /** swap.policy; undefined = swapdock's default (grouped). */
  policy?: 'grouped' | 'fifo';
  modes: Mode[];
}

export interface RequestRecord {
  model: string;
  kind: 'first' | 'warm' | 'switch';
  sentAt: number;
  doneAt: number;
  status: number;
  error?: string;
}

export interface Grant {
  model: string;
  acquiredAt: number;
  grantedAt?: number;
}

/** Everything observed during one mode's run. */
export interface ModeRun {
  mode: Mode;
  requests: RequestRecord[];
  grants: Grant[];
  swaps: { to: string; from: string[]; seenAt: number }[];
  transitions: (ModelStateEvent & { seenAt: number })[];
  logEvents: LogEvent[];
  engineCalls: EngineCall[];
  boots: Boot[];
  controlCalls: HttpCall[];
  probes: HttpCall[];
}

/** Who a segment of a swap belongs to. */
export type Share = 'backend' | 'engine' | 'swapdock';

export interface Segment {
  label: string;
  share: Share;
  ms: number;
}

/** One timed switch, taken apart. */
export interface SwitchRecord {
  index: number;
  target: string;
  evicted: string;
  latencyMs: number;
  /** latency - the target's warm answer time. */
  swapMs: number;
  backendMs: number;
  engineMs: number;
  /** swap - backend - engine. */
  swapdockMs: number;
  /** Backend share split: the evicted model's sleep, the target's wake (+ reload), its cold load. */
  sleepMs: number;
  wakeMs: number;
  coldLoadMs: number;
  /** durationMs of swapdock's own `model` → ready event (its wake or load time). */
  readyEventMs?: number;
  /** What happened to the target: woken from sleep, or cold-started. */
  how: 'wake' | 'cold' | '?';
  segments: Segment[];
  /** Points the breakdown expected but did not find (their time is in the next segment). */
  missing: string[];
}

export interface Stats {
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface ModeResult {
  mode: Mode;
  warmAnswerMs: Record<string, number>;
  firstLoadMs: Record<string, number>;
  switches: SwitchRecord[];
  swapMs: Stats;
  backendMs: Stats;
  engineMs: Stats;
  swapdockMs: Stats;
  sleepMs: Stats;
  wakeMs: Stats;
  coldLoadMs: Stats;
  readyEventMs: Stats;
  wakes: number;
  coldStarts: number;
  /** Per segment label (in timeline order): its share and statistics over the switches. */
  breakdown: { label: string; share: Share; p50: number; p95: number; max: number }[];
}
