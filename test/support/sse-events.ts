// Collects the events of a server-sent event stream (e.g. GET /api/events) while a test runs.
import http from 'node:http';

export interface SseEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON as sent
}

/** A parser of SSE text as it arrives in chunks: calls `onEvent` for each complete event with JSON data. */
export function sseParser(onEvent: (event: SseEvent) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) onEvent({ event, data: JSON.parse(data) });
    }
  };
}

export function collectEvents(url: string): { events: SseEvent[]; close(): void } {
  const events: SseEvent[] = [];
  const parse = sseParser((e) => events.push(e));
  const req = http.get(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', parse);
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return { events, close: () => req.destroy() };
}
