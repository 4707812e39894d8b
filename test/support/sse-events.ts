// Collects the events of a server-sent event stream (e.g. GET /api/events) while a test runs.
import http from 'node:http';

export interface SseEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON as sent
}

export function collectEvents(url: string): { events: SseEvent[]; close(): void } {
  const events: SseEvent[] = [];
  let buffer = '';
  const req = http.get(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return { events, close: () => req.destroy() };
}
