// Multipart uploads through a real server: the body streams (the model is acquired before the
// upload ends; a file sent before the model is spooled to a temp file, removed afterwards), the
// model field is rewritten to the backend's name, and limits and malformed bodies get clear errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { buildServer, waitFor } from '../support/app-harness.js';
import { formHeaders, formPieces, rawPost } from '../support/raw-http.js';

const spoolFiles = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('swapdock-upload-')));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function audio(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 7 + (i >> 8)) & 255;
  return b;
}

describe('multipart uploads', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  before(async () => {
    server = await buildServer(`instance: app-multipart\nlimits: { maxBody: 4m }\nmodels:\n  w: { image: fake-model:latest, upstreamModel: org/whisper-large }\n  plain: { image: fake-model:latest }\n`);
  });
  after(() => server.shutdown());

  it('a file before the model is spooled to a temp file mid-upload, then removed; all of it arrives, model rewritten', async () => {
    const file = audio(3 * 1024 * 1024 + 5);
    const [fileHead, fileData, fileTail, ...rest] = formPieces([{ name: 'file', filename: 'a.wav', data: file }, { name: 'model', data: 'w' }, { name: 'language', data: 'fr' }]);
    const length = [fileHead, fileData, fileTail, ...rest].reduce((n, b) => n + b!.length, 0);
    const before = spoolFiles();
    let spooled: string | undefined;
    const res = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(length), [
      fileHead!, fileData!.subarray(0, 2 * 1024 * 1024),
      async () => {
        await waitFor(() => (spooled = [...spoolFiles()].find((f) => !before.has(f))) !== undefined, 5000, 'a spool file');
      },
      fileData!.subarray(2 * 1024 * 1024), fileTail!, ...rest,
    ]);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.text, `received ${file.length} bytes`);
    assert.equal(res.json.files[0].sha256, sha256(file));
    assert.equal(res.json.model, 'org/whisper-large');
    assert.equal(res.json.fields.language, 'fr');
    await waitFor(() => !spoolFiles().has(spooled!), 5000, 'the spool file to be removed');
  });

  it('a model sent first is acquired before the upload ends: the body streams through (chunked, no length)', async () => {
    const file = audio(1024 * 1024);
    const [modelHead, model, modelTail, fileHead, fileData, ...rest] = formPieces([{ name: 'model', data: 'plain' }, { name: 'file', filename: 'a.wav', data: file }]);
    const res = await rawPost(server.url, '/v1/audio/translations', formHeaders(), [
      modelHead!, model!, modelTail!, fileHead!, fileData!.subarray(0, 100_000),
      async () => {
        await waitFor(() => server.scheduler.snapshotOf('plain')?.inFlight === 1, 5000, 'the model to be acquired mid-upload');
      },
      fileData!.subarray(100_000), ...rest,
    ]);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.text, `received ${file.length} bytes`);
    assert.equal(res.json.model, 'plain');
    assert.equal(res.json.files[0].sha256, sha256(file));
  });

  it('image edits and variations go to the model named in the form', async () => {
    for (const path of ['/v1/images/edits', '/v1/images/variations']) {
      const pieces = formPieces([{ name: 'image', filename: 'in.png', data: Buffer.alloc(1000, 1) }, { name: 'prompt', data: 'a hat' }, { name: 'model', data: 'w' }]);
      const res = await rawPost(server.url, path, formHeaders(), pieces);
      assert.equal(res.status, 200, `${path}: ${res.body}`);
      assert.equal(Buffer.from(res.json.data[0].b64_json, 'base64').toString(), 'received 1000 bytes');
      assert.equal(res.json.model, 'org/whisper-large');
    }
  });

  it('a body over limits.maxBody gets 413, by its declared length or while it streams', async () => {
    const big = audio(5 * 1024 * 1024);
    const declared = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(big.length), [big]);
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, 'payload_too_large');
    assert.match(declared.json.error.message, /limit of 4 MiB \(limits\.maxBody\)/);

    // No length, no model yet: refused while reading.
    const beforeModel = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), formPieces([{ name: 'file', filename: 'a.wav', data: big }, { name: 'model', data: 'w' }]));
    assert.equal(beforeModel.status, 413);

    // No length, model first: already on its way upstream when the limit is crossed.
    const afterModel = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), formPieces([{ name: 'model', data: 'plain' }, { name: 'file', filename: 'a.wav', data: big }]));
    assert.equal(afterModel.status, 413);
    assert.equal(afterModel.json.error.code, 'payload_too_large');
    await waitFor(() => server.scheduler.snapshotOf('plain')!.inFlight === 0, 5000, 'the lease to be released');
  });

  it('a form without a model field, junk, or JSON get 400 with a clear message', async () => {
    const noModel = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), formPieces([{ name: 'file', filename: 'a.wav', data: audio(2 * 1024 * 1024) }]));
    assert.equal(noModel.status, 400);
    assert.equal(noModel.json.error.code, 'missing_model');
    assert.match(noModel.json.error.message, /no "model" field/);

    const junk = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), [Buffer.alloc(64 * 1024, 'j')]);
    assert.equal(junk.status, 400);
    assert.equal(junk.json.error.code, 'invalid_multipart');

    const json = await rawPost(server.url, '/v1/audio/transcriptions', { 'content-type': 'application/json' }, [JSON.stringify({ model: 'w' })]);
    assert.equal(json.status, 400);
    assert.equal(json.json.error.code, 'not_multipart');
    assert.match(json.json.error.message, /multipart\/form-data/);

    const unknown = await rawPost(server.url, '/v1/audio/transcriptions', formHeaders(), formPieces([{ name: 'model', data: 'nope' }, { name: 'file', filename: 'a.wav', data: 'x' }]));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'model_not_found');
  });
});
