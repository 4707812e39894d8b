// Shutdown's wait for requests in flight: until every busy model has drained, or the timeout.
import type { Logger } from 'pino';

export async function drainInFlight(slots: readonly { id: string; inFlight: number; drained(): Promise<void> }[], timeoutMs: number, log: Logger): Promise<void> {
  const busy = slots.filter((s) => s.inFlight > 0);
  if (busy.length === 0) return;
  log.info({ models: busy.map((s) => s.id) }, `Waiting up to ${timeoutMs / 1000} s for requests in flight`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([Promise.all(busy.map((s) => s.drained())), timeout]);
  clearTimeout(timer);
}
