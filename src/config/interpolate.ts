// `${VAR}` interpolation over the parsed YAML tree. It runs on string values after parsing, never on the
// file text, so a value from the environment can't inject YAML (a password with `: ` or a newline stays a
// string) and can't be interpolated again (`${` inside a value stays as is). Mapping keys are left alone.
//   ${VAR}            the variable; unset → issue (set to an empty string → empty string)
//   ${VAR:-default}   the default when VAR is unset or empty, as in POSIX sh; the default is literal text
//   $${               a literal `${`

import { formatPath, type PathSegment } from './paths.ts';
import type { ConfigIssue } from './types.ts';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME_WITH_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface Interpolated {
  readonly value: unknown;
  readonly issues: ConfigIssue[];
}

/** A copy of `tree` with every string value interpolated from `env`, and one issue per bad reference. */
export function interpolateTree(tree: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const issues: ConfigIssue[] = [];
  const value = walk(tree, [], env, issues);
  return { value, issues };
}

function walk(node: unknown, path: PathSegment[], env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof node === 'string') return interpolateString(node, path, env, issues);
  if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index], env, issues));
  if (node !== null && typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) copy[key] = walk(child, [...path, key], env, issues);
    return copy;
  }
  return node;
}

function interpolateString(
  text: string,
  path: PathSegment[],
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): string {
  // One left-to-right pass: substituted text is never scanned again.
  return text.replace(REFERENCE, (match: string, inner: string | undefined) => {
    if (match === '$${') return '${';
    const parsed = inner === undefined ? null : NAME_WITH_DEFAULT.exec(inner);
    if (parsed === null) {
      issues.push({
        path: formatPath(path),
        message: 'malformed ${…} reference: write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
      });
      return '';
    }
    const [, name, fallback] = parsed as unknown as [string, string, string | undefined];
    const set = env[name];
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
    if (set === undefined) {
      issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return '';
    }
    return set;
  });
}
