// Turning zod issues into `path: message` lines, and every issue list into one CONFIG_INVALID error.
// Messages name the expectation and never quote the input, which may be a secret in the wrong field.

import type * as z from 'zod';
import { PophookError } from '../errors.ts';
import { formatPath } from './paths.ts';
import { knownKeysAt } from './schema-walk.ts';
import type { ConfigIssue } from './types.ts';

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
  string: 'a string (quote the value)',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
};

/** Per-parse zod error map for the kinds whose default message is not ours; schema messages win. */
export function zodMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'required'
        : `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `expected one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'invalid key';
    case 'too_small':
      return `expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
}

/** Plain edit distance, small inputs only: suggests `passwordFile` for `passwordfile` or `pasword_file`. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = row;
  }
  return previous[b.length]!;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = known.find((candidate) => distance(key, candidate) <= Math.min(2, candidate.length >> 2));
  const hint = near === undefined ? `known: ${known.join(', ')}` : `did you mean ${near}?`;
  return known.length === 0 ? 'unknown key' : `unknown key (${hint})`;
}

/** One ConfigIssue per zod issue, and one per key of an `unrecognized_keys` issue. */
export function fromZodIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [{ path: formatPath(issue.path), message: issue.message }];
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      message: unknownKeyMessage(key, known),
    }));
  });
}

/** The first issue per path survives (an unset ${VAR} explains the bad value it left behind), sorted. */
export function mergeIssues(...lists: ConfigIssue[][]): ConfigIssue[] {
  const byPath = new Map<string, ConfigIssue>();
  for (const issue of lists.flat()) if (!byPath.has(issue.path)) byPath.set(issue.path, issue);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function invalidConfig(sourceName: string, issues: readonly ConfigIssue[]): PophookError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n');
  return new PophookError('CONFIG_INVALID', `${sourceName} has ${count}:\n${lines}`, {
    details: { source: sourceName, issues },
  });
}
