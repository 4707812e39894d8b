import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderError } from '../../src/api/error-response.js';
import { dialectOfTarget } from '../../src/api/routes.js';
import { BadRequestError, ModelNotFoundError, ModelStartError, ShuttingDownError } from '../../src/errors.js';

describe('renderError', () => {
  it('renders typed errors in the OpenAI shape', () => {
    const r = renderError(new ModelNotFoundError('gpt-5', ['a', 'b']));
    assert.equal(r.status, 404);
    const body = JSON.parse(r.body);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'type']);
    assert.equal(body.error.code, 'model_not_found');
    assert.match(body.error.message, /'gpt-5'.*Available models: a, b/);
  });
  it('hides internals of unexpected errors', () => {
    const r = renderError(new TypeError('x is undefined at secret/path.ts'));
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body, /secret/);
    assert.equal(JSON.parse(r.body).error.type, 'server_error');
  });
  it('adds Retry-After when the error knows it', () => {
    assert.equal(renderError(new ShuttingDownError()).headers['retry-after'], '5');
    assert.equal(renderError(new BadRequestError('x')).headers['retry-after'], undefined);
  });
  it('speaks Anthropic on /v1/messages', () => {
    assert.equal(dialectOfTarget('/v1/messages?beta=true'), 'anthropic');
    assert.equal(dialectOfTarget('/v1/chat/completions'), 'openai');
    const r = renderError(new ModelStartError('m', 'image missing'), 'anthropic');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { type: 'error', error: { type: 'overloaded_error', message: "Model 'm' could not be started: image missing." } });
  });
});
