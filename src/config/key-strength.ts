// API keys guard every model and the admin API, so a key everyone can guess is worse than none:
// it looks protected. Keys copied from examples or docs, and keys short enough to guess, are
// refused when the config loads.

export const MIN_KEY_LENGTH = 16;

/** How to make a key that passes; quoted in every refusal. */
export const HOW_TO_MAKE_A_KEY = 'make one with `openssl rand -hex 24` (or `node -e "console.log(crypto.randomBytes(24).toString(\'hex\'))"`) and pass it through the environment, e.g. key: ${SWAPDOCK_ADMIN_KEY}';

// Words that mark a value as an example, not a secret. Matched on the key with separators removed.
const PLACEHOLDER_WORDS = ['changeme', 'replaceme', 'yourkey', 'yoursecret', 'yourapikey', 'placeholder', 'example', 'default', 'insertkey', 'secretkey', 'password', 'xxxxxx', 'todo', 'fixme'];

/** Why `key` may not be used, or undefined when it is fine. */
export function weakKeyReason(key: string): string | undefined {
  if (key.length < MIN_KEY_LENGTH) return `it is ${key.length} characters long; keys need at least ${MIN_KEY_LENGTH}`;
  const squashed = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  const word = PLACEHOLDER_WORDS.find((w) => squashed.includes(w));
  if (word) return `it looks like a placeholder (it contains '${word}'), a value others may know from an example`;
  if (new Set(key).size <= 3) return 'it repeats too few characters to be secret';
  return undefined;
}
