// One kept-alive undici Pool per backend address: reusing connections is most of what keeps the
// proxy's added latency well under a millisecond.
import { Pool } from '../util/undici-core.js';
import type { Endpoint } from '../runtime/container-runtime.js';

const IDLE_POOL_CLOSE_MS = 60_000;

export class UpstreamPools {
  private readonly pools = new Map<string, { pool: Pool; lastUsedAt: number }>();

  get(endpoint: Endpoint): Pool {
    const key = `${endpoint.host}:${endpoint.port}`;
    const now = Date.now();
    let entry = this.pools.get(key);
    if (!entry) {
      this.closeIdle(now);
      entry = {
        pool: new Pool(`http://${key}`, {
          connections: 128,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          // Generations can take minutes before the first byte or between tokens; a client
          // disconnect, not a timer, ends a request.
          headersTimeout: 0,
          bodyTimeout: 0,
        }),
        lastUsedAt: now,
      };
      this.pools.set(key, entry);
    }
    entry.lastUsedAt = now;
    return entry.pool;
  }

  /** Containers get a new port on every start; pools of old addresses are closed lazily. */
  private closeIdle(now: number): void {
    for (const [key, entry] of this.pools) {
      if (now - entry.lastUsedAt > IDLE_POOL_CLOSE_MS) {
        this.pools.delete(key);
        entry.pool.close().catch(() => undefined);
      }
    }
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((e) => e.pool.destroy()));
  }
}
