// The configuration reference as data, generated from the schema itself so the README cannot drift:
// one row per key, records shown as `<id>`, defaults in the form the YAML file uses (`30s`, not 30000).

import type * as z from 'zod';
import { configSchema } from './schema.ts';
import { children, unwrap } from './schema-walk.ts';

export interface ConfigKeyDescription {
  readonly path: string;
  readonly type: string;
  readonly default?: unknown;
  readonly description: string;
}

function describe(schema: z.ZodType, prefix: string, rows: ConfigKeyDescription[]): void {
  for (const [key, child] of children(schema)) {
    const path = prefix === '' ? key : key === '[]' ? `${prefix}[]` : `${prefix}.${key}`;
    const { core, doc, optional, defaultValue } = unwrap(child);
    if (doc !== undefined) {
      const isScalarDefault =
        defaultValue !== undefined && (typeof defaultValue !== 'object' || defaultValue === null);
      const required = !optional && defaultValue === undefined && key !== '<id>';
      rows.push({
        path,
        type: doc.type,
        ...(isScalarDefault ? { default: defaultValue } : {}),
        description: required ? `${doc.description} (required)` : doc.description,
      });
    }
    describe(core, path, rows);
  }
}

export function describeConfigSchema(): Array<ConfigKeyDescription> {
  const rows: ConfigKeyDescription[] = [];
  describe(unwrap(configSchema).core, '', rows);
  return rows;
}
