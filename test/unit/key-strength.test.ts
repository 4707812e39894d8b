// Shipped configs carry no key, and a key everyone can know (a placeholder, a short string) stops
// swapdock from starting, with the key's name and how to make a real one.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfigText } from '../../src/config/load-config.js';
import { weakKeyReason } from '../../src/config/key-strength.js';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));

function problemsOf(keyLine: string): string {
  try {
    parseConfigText(`auth:\n  keys:\n${keyLine}\nmodels: {}\n`, 'test.yaml', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return '';
}

describe('API key strength', () => {
  it('refuses known placeholders, naming the key and how to make one', () => {
    for (const key of ['change-me-admin-key', 'changeme-changeme-1', 'your-api-key-goes-here', 'sk-xxxxxxxxxxxxxxxxxxxx', 'example-key-0123456789']) {
      const message = problemsOf(`    - { name: ops, key: "${key}", admin: true }`);
      assert.match(message, /auth\.keys\.0\.key/, key);
      assert.match(message, /the key of 'ops' cannot be used: it looks like a placeholder/, key);
      assert.match(message, /openssl rand -hex 24/, key);
      assert.ok(!message.includes(key), `the refusal must not repeat the key itself: ${message}`);
    }
  });

  it('refuses keys shorter than 16 characters and keys of one repeated character', () => {
    assert.match(problemsOf('    - { name: short, key: abc123def456 }'), /the key of 'short' cannot be used: it is 12 characters long; keys need at least 16/);
    assert.match(problemsOf('    - { name: same, key: aaaaaaaaaaaaaaaaaaaa }'), /the key of 'same' cannot be used/);
  });

  it('accepts a random key', () => {
    assert.equal(weakKeyReason('3f9a1c0e7b2d4a6c8e0f1a3b5c7d9e1f'), undefined);
    assert.equal(problemsOf('    - { name: ok, key: 3f9a1c0e7b2d4a6c8e0f1a3b5c7d9e1f }'), '');
  });

  it('ships no default key in the example configs, and their texts no longer say swapdock has no authentication', async () => {
    for (const file of ['models.yaml', 'compose.models.yaml', 'compose.example.yaml', 'Dockerfile']) {
      const text = await readFile(root(file), 'utf8');
      assert.doesNotMatch(text, /:-change-me|change-me-[a-z]+-key/i, `${file} ships a placeholder key`);
      assert.doesNotMatch(text, /no authentication|needs no key/i, `${file} says swapdock has no authentication`);
    }
  });
});
