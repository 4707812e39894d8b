// GET /metrics: the Prometheus exposition of swapdock's metrics (src/metrics/swapdock-metrics.ts).
// Who may read it (an admin key unless `metrics.public: true`) is decided by the auth gate.
import type { Context } from 'hono';
import type { SwapdockMetrics } from '../metrics/swapdock-metrics.js';

export function metricsHandler(metrics: SwapdockMetrics) {
  return async function serveMetrics(c: Context): Promise<Response> {
    const text = await metrics.render();
    c.header('cache-control', 'no-store');
    return c.body(text, 200, { 'content-type': metrics.contentType });
  };
}
