// The API-key policy (src/api/auth.ts): key matching in constant time, model patterns, route classes.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import {
  KeyRing,
  UnauthorizedError,
  authorize,
  globToRegExp,
  keyRingFor,
  presentedKey,
  visibleTo,
} from '../../src/api/auth.js';
import { testConfig } from '../support/app-harness.js';

const config = testConfig(`
auth:
  keys:
    - { name: alice, key: alice-secret-1-23, models: [qwen-*, small] }
    - { name: root, key: root-secret-12-34, admin: true }
    - { name: nobody, key: nobody-secret-567, models: [] }
models:
  qwen-7b: { image: x, aliases: [q7] }
  llama: { image: x, aliases: [small] }
  other: { image: x, aliases: [qwen-alias] }
`);
const model = (id: string) => config.models.get(id)!;

describe('API keys', () => {
  it('matches a presented key to its entry, and nothing else', () => {
    const ring = new KeyRing(config);
    assert.equal(ring.match('alice-secret-1-23')?.name, 'alice');
    assert.equal(ring.match('root-secret-12-34')?.admin, true);
    assert.equal(ring.match('alice-secret-'), undefined);
    assert.equal(ring.match('alice-secret-1-232'), undefined);
    assert.equal(ring.match(''), undefined);
  });

  it('compares with timingSafeEqual over equal-length digests, against every key every time', () => {
    const ring = new KeyRing(config);
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports(); // the named import in auth.ts now sees the spy
    try {
      assert.equal(ring.match('alice-secret-1-23')?.name, 'alice'); // the first key: the rest are still compared
      assert.equal(spy.mock.callCount(), 3);
      ring.match('short');
      assert.equal(spy.mock.callCount(), 6);
      for (const call of spy.mock.calls) {
        const [a, b] = call.arguments as [Buffer, Buffer];
        assert.equal(a.length, 32); // SHA-256: the presented key's length does not show
        assert.equal(b.length, 32);
      }
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });

  it('takes the key from Bearer, x-api-key, and the cookie only where allowed', () => {
    assert.equal(presentedKey({ authorization: 'Bearer abc' }), 'abc');
    assert.equal(presentedKey({ authorization: 'bearer   abc ' }), 'abc');
    assert.equal(presentedKey({ 'x-api-key': 'xyz' }), 'xyz');
    assert.equal(presentedKey({ authorization: 'Basic Zm9v', 'x-api-key': 'xyz' }), 'xyz');
    assert.equal(presentedKey({ cookie: 'a=1; swapdock_key=k%3Bey' }), undefined);
    assert.equal(presentedKey({ cookie: 'a=1; swapdock_key=k%3Bey' }, true), 'k;ey');
    assert.equal(presentedKey({}), undefined);
  });

  it('allows a model by id, alias or glob, and a pattern on one name of a model allows all its names', () => {
    const ring = keyRingFor(config);
    const alice = ring.match('alice-secret-1-23')!;
    assert.equal(ring.allows(alice, model('qwen-7b')), true); // glob on the id
    assert.equal(ring.allows(alice, model('llama')), true); // allowed by its alias 'small'
    assert.equal(ring.allows(alice, model('other')), true); // its alias 'qwen-alias' matches the glob
    const nobody = ring.match('nobody-secret-567')!;
    assert.equal(ring.allows(nobody, model('llama')), false);
    const root = ring.match('root-secret-12-34')!;
    assert.equal(ring.allows(root, model('llama')), true); // no `models` = all
    assert.equal(globToRegExp('a.b*').test('a.b-c'), true);
    assert.equal(globToRegExp('a.b*').test('axb'), false);
  });

  it('caches the key ring per config object, so a reloaded config brings new keys', () => {
    assert.equal(keyRingFor(config), keyRingFor(config));
    const reloaded = testConfig('auth: { keys: [{ name: new, key: brand-new-key-890 }] }\nmodels: {}');
    assert.notEqual(keyRingFor(reloaded), keyRingFor(config));
    assert.equal(keyRingFor(reloaded).match('alice-secret-1-23'), undefined);
    assert.equal(keyRingFor(testConfig('models: {}')).open, true);
  });

  it('authorize: 401 without or with an unknown key, 403 for a non-admin key on an admin route', () => {
    const ring = keyRingFor(config);
    assert.equal(authorize(ring, {}, 'public', '/health'), undefined);
    assert.throws(() => authorize(ring, {}, 'key', '/v1/models'), (e: unknown) => e instanceof UnauthorizedError && e.code === 'missing_api_key');
    assert.throws(() => authorize(ring, { 'x-api-key': 'wrong-key-123' }, 'key', '/v1/models'), (e: unknown) => e instanceof UnauthorizedError && e.code === 'invalid_api_key');
    assert.throws(() => authorize(ring, { 'x-api-key': 'alice-secret-1-23' }, 'admin', '/api/models'), { status: 403, code: 'admin_key_required' });
    assert.equal(authorize(ring, { cookie: 'swapdock_key=root-secret-12-34' }, 'admin', '/api/models')?.name, 'root');
    assert.throws(() => authorize(ring, { cookie: 'swapdock_key=root-secret-12-34' }, 'key', '/v1/models'), UnauthorizedError);
    const err = (() => {
      try {
        authorize(ring, { authorization: 'Bearer wrong-key-123' }, 'key', '/x');
      } catch (e) {
        return e as Error;
      }
    })()!;
    assert.doesNotMatch(err.message, /wrong-key-123/);
  });

  it('filters the model list to what a key may use', () => {
    const ring = keyRingFor(config);
    const entries = [{ id: 'qwen-7b' }, { id: 'q7', alias_of: 'qwen-7b' }, { id: 'llama' }, { id: 'small', alias_of: 'llama' }];
    assert.deepEqual(visibleTo(entries, config, ring.match('nobody-secret-567')), []);
    assert.equal(visibleTo(entries, config, ring.match('alice-secret-1-23')).length, 4);
    assert.equal(visibleTo(entries, config, undefined).length, 4);
  });
});
