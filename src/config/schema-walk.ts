// Reading the configuration schema's own structure (zod 4 `_zod.def`): the documented fields for
// describeConfigSchema() and the keys an object accepts, for "did you mean" on unknown keys.

import type * as z from 'zod';
import { configDocs, type FieldDoc } from './fields.ts';

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

export interface Unwrapped {
  /** The schema under optional/prefault/default wrappers: an object, a record or a leaf. */
  readonly core: z.ZodType;
  readonly doc?: FieldDoc;
  readonly optional: boolean;
  readonly defaultValue?: unknown;
}

const def = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

export function unwrap(schema: z.ZodType): Unwrapped {
  let core = schema;
  let doc = configDocs.get(core);
  let optional = false;
  let defaultValue: unknown;
  for (
    let d = def(core);
    d.innerType !== undefined && ['optional', 'prefault', 'default'].includes(d.type);
  ) {
    if (d.type === 'optional') optional = true;
    else defaultValue ??= d.defaultValue;
    core = d.innerType;
    doc ??= configDocs.get(core);
    d = def(core);
  }
  return { core, doc, optional, defaultValue };
}

/**
 * Fields of an object schema, the single `<id>` entry of a record, the `[]` element of a list (of routes:
 * its fields are documented too), or nothing for a leaf.
 */
export function children(schema: z.ZodType): Array<[key: string, child: z.ZodType]> {
  const d = def(schema);
  if (d.type === 'object' && d.shape !== undefined) return Object.entries(d.shape);
  if (d.type === 'record' && d.valueType !== undefined) return [['<id>', d.valueType]];
  if (d.type === 'array' && d.element !== undefined) return [['[]', d.element]];
  return [];
}

/** Keys accepted by the object at `path` (record keys match anything), or [] when unknown. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = unwrap(schema).core;
  for (const segment of path) {
    const next = children(current).find(([key]) => key === '<id>' || key === '[]' || key === segment);
    if (next === undefined) return [];
    current = unwrap(next[1]).core;
  }
  return def(current).type === 'object' ? children(current).map(([key]) => key) : [];
}
