// A fixed-capacity ring buffer: pushing beyond capacity drops the oldest item. O(1) push, no
// array shifting, so per-line capture of container and swapdock output stays cheap.

export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, not ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = item;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Replaces the newest item (pushes when empty): for an entry that supersedes the one before it. */
  replaceNewest(item: T): void {
    if (this.count === 0) return this.push(item);
    this.items[(this.start + this.count - 1) % this.capacity] = item;
  }

  /** The newest item, if any. */
  newest(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }

  /** Oldest first; `last` limits it to the newest that many. */
  toArray(last = this.count): T[] {
    const n = Math.max(0, Math.min(last, this.count));
    const out = new Array<T>(n);
    const from = this.start + this.count - n;
    for (let i = 0; i < n; i++) out[i] = this.items[(from + i) % this.capacity] as T;
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
