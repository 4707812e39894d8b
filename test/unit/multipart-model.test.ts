// The incremental multipart `model` finder: any chunking gives the same answer, junk is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MultipartModelFinder, multipartBoundary } from '../../src/proxy/multipart-model.js';
import { formPieces, type FormPart } from '../support/raw-http.js';

const B = 'XyZ-boundary-123';

function form(parts: FormPart[], boundary = B): Buffer {
  return Buffer.concat(formPieces(parts, boundary));
}

/** Feeds `body` in chunks of `size` bytes; returns the finder's answer. */
function find(body: Buffer, size: number) {
  const finder = new MultipartModelFinder(B);
  for (let i = 0; i < body.length; i += size) {
    const found = finder.push(body.subarray(i, i + size));
    if (found) return found;
  }
  return finder.end();
}

describe('multipartBoundary', () => {
  it('reads the boundary, quoted or not, only from multipart/form-data', () => {
    assert.equal(multipartBoundary(`multipart/form-data; boundary=${B}`), B);
    assert.equal(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"'), 'a b:c');
    assert.equal(multipartBoundary('multipart/form-data'), undefined);
    assert.equal(multipartBoundary('application/json'), undefined);
    assert.equal(multipartBoundary(undefined), undefined);
  });
});

describe('MultipartModelFinder', () => {
  const file = Buffer.alloc(70_000, 7);
  // A file holding bytes that look like a part boundary, minus the CRLF before it.
  file.write(`--${B}\r\nContent-Disposition: form-data; name="model"\r\n\r\nfake`, 1000);

  it('finds the model after a file part whatever the chunking, with its byte range', () => {
    const body = form([{ name: 'file', filename: 'a.wav', data: file }, { name: 'language', data: 'en' }, { name: 'model', data: 'whisper-1' }]);
    for (const size of [1, 2, 7, 64, 1000, 65_536, body.length]) {
      const found = find(body, size);
      assert.equal(found.value, 'whisper-1', `chunk size ${size}`);
      assert.equal(body.subarray(found.start, found.end).toString(), 'whisper-1');
    }
  });

  it('finds a model sent first, before any file byte arrives', () => {
    const body = form([{ name: 'model', data: 'm' }, { name: 'file', filename: 'a.wav', data: file }]);
    const finder = new MultipartModelFinder(B);
    const head = body.subarray(0, body.indexOf('a.wav'));
    assert.equal(finder.push(head)?.value, 'm');
  });

  it('accepts a part without headers and an unquoted name', () => {
    const body = Buffer.from(`--${B}\r\n\r\nanonymous\r\n--${B}\r\nContent-Disposition: form-data; name=model\r\n\r\nx\r\n--${B}--`);
    assert.equal(find(body, 3).value, 'x');
  });

  it('says so when the parts end without a model field', () => {
    const body = form([{ name: 'file', filename: 'a.wav', data: 'abc' }]);
    assert.throws(() => find(body, 5), (err: Error & { status: number; code: string }) => err.status === 400 && err.code === 'missing_model' && /no "model" field/.test(err.message));
  });

  it('refuses a body that is not multipart or ends mid-part', () => {
    const notMultipart = Buffer.alloc(20_000, 'a');
    assert.throws(() => find(notMultipart, 4096), /not valid multipart\/form-data \(no boundary/);
    const truncated = form([{ name: 'file', filename: 'a.wav', data: file }]).subarray(0, 5000);
    assert.throws(() => find(truncated, 512), /ended in the middle of a part/);
    const badHeaders = Buffer.concat([Buffer.from(`--${B}\r\n`), Buffer.alloc(20_000, 'h')]);
    assert.throws(() => find(badHeaders, 1024), /headers are over 16 KiB/);
    const longModel = form([{ name: 'model', data: 'm'.repeat(5000) }]);
    assert.throws(() => find(longModel, 512), /over 1024 bytes/);
  });
});
