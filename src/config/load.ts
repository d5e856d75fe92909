// Loading the configuration: read the file, parse YAML, interpolate ${VAR}, apply the REDIS_URL and
// LOG_LEVEL overrides, read the files it names, validate, build, freeze. Every problem found on the way
// is collected and thrown once as CONFIG_INVALID, so a bad file is fixed in one round.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PophookError } from '../errors.ts';
import { buildConfig, deepFreeze } from './build.ts';
import { readConfigFiles } from './files.ts';
import { findIndentSlips } from './indent-slip.ts';
import { interpolateTree } from './interpolate.ts';
import { fromZodIssues, invalidConfig, mergeIssues, zodMessage } from './issues.ts';
import { configSchema } from './schema.ts';
import type { Config, ConfigIssue } from './types.ts';

export interface ParseConfigOptions {
  /** Variables for ${VAR} and the REDIS_URL / LOG_LEVEL overrides. */
  readonly env: NodeJS.ProcessEnv;
  /** Directory that relative passwordFile, secretFile, accessTokenFile and ca paths start from. */
  readonly baseDir: string;
  /** Names the file in the error message, usually its path. */
  readonly sourceName: string;
}

/** Environment variables that replace a value of the file, with the issue path they replace. */
const ENV_OVERRIDES = [
  { name: 'REDIS_URL', section: 'redis', key: 'url' },
  { name: 'LOG_LEVEL', section: 'log', key: 'level' },
] as const;

// yaml's own messages can quote the offending source line, which may hold a password: only the
// position and a description of the error code are reported.
const YAML_PROBLEMS: Readonly<Record<string, string>> = {
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'tabs cannot indent YAML; use spaces',
  DUPLICATE_KEY: 'the same key appears twice in one mapping',
  MISSING_CHAR: 'missing character (a closing quote or bracket, or a comma?)',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_SCALAR_START: 'a plain value cannot start with this character: quote it',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line (missing colon or closing quote?)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block cannot be a key (missing colon?)',
  MULTIPLE_DOCS: 'one document only: remove the extra ---',
  TAG_RESOLVE_FAILED: 'unknown !tag',
  UNEXPECTED_TOKEN: 'unexpected text here',
};

function parseYaml(text: string): { value: unknown } | { issues: ConfigIssue[] } {
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  // The first syntax error is the mistake; the parser's later errors (and any schema problems of the
  // half-read tree) only follow from it, so it is reported alone.
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const problem = YAML_PROBLEMS[first.code] ?? first.code.toLowerCase().replaceAll('_', ' ');
    return {
      issues: [
        { path: at ? `line ${at.line}, column ${at.col}` : '(yaml)', message: `invalid YAML: ${problem}` },
      ],
    };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) };
  } catch {
    // Only an alias explosion (billion laughs) makes toJS throw on a document that parsed cleanly.
    return { issues: [{ path: '(yaml)', message: 'invalid YAML: too many alias expansions' }] };
  }
}

/** REDIS_URL and LOG_LEVEL (when set and not empty) replace the file's values; returns the paths replaced. */
function applyEnvOverrides(tree: unknown, env: NodeJS.ProcessEnv): Map<string, string> {
  const replaced = new Map<string, string>();
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return replaced;
  const root = tree as Record<string, unknown>;
  for (const { name, section, key } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const current = root[section];
    const target =
      current !== null && typeof current === 'object' ? (current as Record<string, unknown>) : {};
    target[key] = value;
    root[section] = target;
    replaced.set(`${section}.${key}`, name);
  }
  return replaced;
}

/** Parses, interpolates, reads named files and validates a configuration text; throws CONFIG_INVALID. */
export async function parseConfig(text: string, options: ParseConfigOptions): Promise<Config> {
  const parsed = parseYaml(text);
  if ('issues' in parsed) throw invalidConfig(options.sourceName, parsed.issues);
  const interpolated = interpolateTree(parsed.value, options.env);
  const overridden = applyEnvOverrides(interpolated.value, options.env);
  const result = configSchema.safeParse(interpolated.value, { error: zodMessage });
  const files = await readConfigFiles(interpolated.value, options.baseDir);
  const slips = findIndentSlips(configSchema, interpolated.value);
  const explained = (issue: ConfigIssue) => slips.some((slip) => slip.explained.has(issue.path));
  const issues = mergeIssues(
    slips.map((slip) => slip.issue),
    interpolated.issues.filter((issue) => !overridden.has(issue.path)),
    result.success ? [] : fromZodIssues(configSchema, result.error.issues).filter((i) => !explained(i)),
    files.issues,
  ).map((issue) => {
    const from = overridden.get(issue.path);
    return from === undefined
      ? issue
      : { path: issue.path, message: `${issue.message} (value from ${from})` };
  });
  if (issues.length > 0 || !result.success) throw invalidConfig(options.sourceName, issues);
  return deepFreeze(buildConfig(result.data, files));
}

/** Reads and validates the configuration file at `path` (CONFIG_UNREADABLE, CONFIG_INVALID). */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new PophookError('CONFIG_UNREADABLE', `cannot read the configuration file ${path} (${code})`, {
      cause: error,
      details: { path },
    });
  }
  return parseConfig(text, { env, baseDir: dirname(resolve(path)), sourceName: path });
}
