// `${NAME}` in any string value is replaced by the environment variable NAME; `${NAME:-text}`
// falls back to text when NAME is unset or empty; `$${` writes a literal `${`. An unset variable
// without a fallback is an error, so a forgotten secret never turns silently into "".

export interface EnvIssue {
  path: (string | number)[];
  message: string;
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * A string that holds at least one reference (a `${` after one `$` only: `$${` is the escape),
 * as a JSON Schema pattern: the editor schema cannot know what such a value becomes.
 */
export const ENV_REFERENCE_PATTERN = String.raw`(?:^|[^$])\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}`;

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv): { value: unknown; issues: EnvIssue[] } {
  const issues: EnvIssue[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return expandString(node, env, (name) =>
      issues.push({ path, message: `environment variable ${name} is not set; export it, or write \${${name}:-default}` }),
    );
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };
  return { value: walk(value, []), issues };
}

function expandString(text: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => void): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const current = env[name!];
    if (current !== undefined && current !== '') return current;
    if (fallback !== undefined) return fallback;
    if (current === '') return '';
    onMissing(name!);
    return '';
  });
}
