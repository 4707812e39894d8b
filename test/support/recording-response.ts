// A recording stand-in for a Node ServerResponse, for unit tests of the response sinks: the status,
// headers and body written, and whether it ended or was destroyed.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

export class RecordingResponse extends EventEmitter {
  status = 0;
  headers: Record<string, unknown> = {};
  body = '';
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  writeHead(status: number, headers: Record<string, unknown>) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  write(chunk: string | Buffer) {
    this.body += chunk.toString();
    return true;
  }
  end(chunk?: string | Buffer) {
    if (chunk) this.body += chunk.toString();
    this.writableEnded = true;
    return this;
  }
  destroy() {
    this.destroyed = true;
  }
  /** This, typed as what the sinks write to. */
  get asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}
