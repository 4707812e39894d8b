// Raw HTTP helpers for tests that control how a body streams in (pauses mid-upload, chunked or
// sized), and a multipart/form-data builder.
import { request } from 'node:http';

export type BodyStep = Buffer | string | (() => Promise<void>);

/**
 * Sends `steps` in order (a function step runs between writes: the upload pauses there) and
 * resolves with the answer. Writes after the server answered early are dropped, as a real client's.
 */
export function rawPost(url: string, path: string, headers: Record<string, string>, steps: BodyStep[]): Promise<{ status: number; headers: Record<string, unknown>; body: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, body, json });
      });
    });
    void (async () => {
      for (const step of steps) {
        if (answered || req.destroyed) return;
        if (typeof step === 'function') await step();
        else if (!req.write(step)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

export interface FormPart {
  name: string;
  filename?: string;
  data: Buffer | string;
}

export const BOUNDARY = '----swapdock-test-boundary-7MA4YWxkTrZu0gW';

/** The pieces of a multipart body: each part's head, data and tail, separately, so a test can pause between them. */
export function formPieces(parts: FormPart[], boundary = BOUNDARY): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename ? 'Content-Type: application/octet-stream\r\n' : '';
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return out;
}

export const formHeaders = (length?: number): Record<string, string> => ({
  'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
  ...(length === undefined ? {} : { 'content-length': String(length) }),
});
