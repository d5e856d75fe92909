// The indentation slip that still parses: an entry left empty (`support:`) with its settings one level too
// far left, where they read as entries of their own (`mailboxes.host`, `mailboxes.port`…). Found here it
// becomes one issue that names the fix, instead of a "expected a mapping" for every line of the entry.

import type * as z from 'zod';
import { formatPath } from './paths.ts';
import { knownKeysAt } from './schema-walk.ts';
import type { ConfigIssue } from './types.ts';

const SECTIONS = ['mailboxes', 'webhooks'] as const;

export interface IndentSlip {
  readonly issue: ConfigIssue;
  /** The paths of the misplaced settings, whose own issues the slip explains. */
  readonly explained: ReadonlySet<string>;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** At most one slip per section: its first empty entry followed by settings of an entry. */
export function findIndentSlips(schema: z.ZodType, tree: unknown): IndentSlip[] {
  if (!isMapping(tree)) return [];
  const slips: IndentSlip[] = [];
  for (const section of SECTIONS) {
    const entries = tree[section];
    if (!isMapping(entries)) continue;
    const keys = Object.keys(entries);
    const empty = keys.findIndex((key) => entries[key] === null);
    if (empty === -1) continue;
    const settings = new Set(knownKeysAt(schema, [section, keys[empty]!]));
    const misplaced = keys.slice(empty + 1).filter((key) => settings.has(key) && !isMapping(entries[key]));
    if (misplaced.length === 0) continue;
    const entry = formatPath([section, keys[empty]!]);
    slips.push({
      issue: {
        path: entry,
        message: `empty, and ${misplaced.join(', ')} after it are settings of an entry: indent them under ${keys[empty]}`,
      },
      explained: new Set([entry, ...misplaced.map((key) => formatPath([section, key]))]),
    });
  }
  return slips;
}
