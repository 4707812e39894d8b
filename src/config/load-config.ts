// Reads models.yaml: YAML → ${ENV} expansion → zod validation. Every problem is reported with
// its YAML path and line, all at once, so a user fixes the file in one pass.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { configSchema, resolveConfig, type SwapdockConfig } from './schema.js';
import { expandEnv } from './expand-env.js';

export interface ConfigIssue {
  /** Dotted YAML path, e.g. `models.qwen.port`; empty for the document itself. */
  path: string;
  line?: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${source} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  - ${i.path || '(top level)'}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`).join('\n'),
    );
  }
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<SwapdockConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(err);
    throw new ConfigError(file, [{ path: '', message: `${reason}. Pass --config FILE or create models.yaml.` }]);
  }
  return parseConfigText(text, file, env);
}

export function parseConfigText(text: string, source = 'The config', env: NodeJS.ProcessEnv = process.env): SwapdockConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  // The line of the node at `path`, or of its nearest parent when the key is missing.
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let depth = path.length; depth > 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
      const offset = node?.range?.[0];
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return undefined;
  };

  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '', line: e.linePos?.[0]?.line, message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` })),
    );
  }

  const { value, issues: envIssues } = expandEnv(doc.toJS() ?? {}, env);
  const issues: ConfigIssue[] = envIssues.map((i) => ({ path: i.path.join('.'), line: lineOf(i.path), message: i.message }));

  const result = configSchema.safeParse(value, { error: friendlyMessage });
  if (!result.success) {
    for (const issue of result.error.issues) {
      issues.push({ path: issue.path.map(String).join('.'), line: lineOf(issue.path), message: describeIssue(issue) });
    }
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(source, issues);
  return resolveConfig(result.data);
}

/** Plain words for the common cases; zod's own message otherwise. */
function friendlyMessage(issue: { code?: string; input?: unknown; expected?: string }): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return issue.expected === 'record' ? 'required: a map of model ids to their settings' : 'required';
  const got = issue.input === null ? 'nothing' : Array.isArray(issue.input) ? 'a list' : `${article(typeof issue.input)} ${typeof issue.input}`;
  return `expected ${issue.expected === 'record' || issue.expected === 'object' ? 'a map of keys' : `${article(issue.expected ?? 'value')} ${issue.expected}`}, got ${got}`;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function describeIssue(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (check the spelling; see the README's config reference)`;
  }
  return issue.message;
}
