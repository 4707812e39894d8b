// Per-model ring buffers of container output (config `logs.lines` lines each), kept across
// restarts of a model so the lines before a crash stay visible. Fed by the state observer while
// a container runs; read by GET /api/logs/{model}.
import { RingBuffer } from '../util/ring-buffer.js';
import type { ContainerLogEvent } from './scheduler-events.js';

export type ContainerLogLine = Omit<ContainerLogEvent, 'model'>;

export class ModelLogBuffers {
  private readonly buffers = new Map<string, RingBuffer<ContainerLogLine>>();

  constructor(private readonly lines: () => number) {}

  append(model: string, line: ContainerLogLine): void {
    let buffer = this.buffers.get(model);
    if (!buffer || buffer.capacity !== this.lines()) {
      const resized = new RingBuffer<ContainerLogLine>(this.lines());
      for (const old of buffer?.toArray() ?? []) resized.push(old);
      this.buffers.set(model, (buffer = resized));
    }
    buffer.push(line);
  }

  /** Oldest first; empty for a model that has printed nothing yet. */
  history(model: string): ContainerLogLine[] {
    return this.buffers.get(model)?.toArray() ?? [];
  }

  forget(model: string): void {
    this.buffers.delete(model);
  }
}
