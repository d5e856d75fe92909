// Builders for configuration tests: a valid document to vary, and the issues a rejected parse carries.

import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.ts';
import type { Config, ConfigIssue } from '../../../src/config/types.ts';
import { isPophookError } from '../../../src/errors.ts';

export const SECRET = `whsec_${Buffer.alloc(32, 0x5a).toString('base64')}`;
export const PASSWORD = 'pw-Zq8#x!secret';

/** A YAML document as tests edit it: freely, often into something invalid on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: tests build deliberately ill-typed documents
export type Doc = Record<string, any>;

/** A valid document; `patch` edits a deep copy before it is serialized to YAML. */
export function configText(patch: (doc: Doc) => void = () => {}): string {
  const doc: Doc = {
    webhooks: { tickets: { url: 'https://tickets.example.com/hooks/email', secret: SECRET } },
    mailboxes: {
      support: {
        host: 'pop.example.com',
        username: 'support@example.com',
        password: PASSWORD,
        webhook: 'tickets',
      },
    },
  };
  patch(doc);
  return stringify(doc);
}

export function parse(text: string, env: NodeJS.ProcessEnv = {}, baseDir = '/nonexistent'): Promise<Config> {
  return parseConfig(text, { env, baseDir, sourceName: 'test.yml' });
}

/** The issues of a CONFIG_INVALID rejection (fails the test on success or another error). */
export async function issuesOf(promise: Promise<unknown>): Promise<ConfigIssue[]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isPophookError(error, 'CONFIG_INVALID'), String(error)).toBe(true);
  return (error as { details: { issues: ConfigIssue[] } }).details.issues;
}

export async function issuePaths(promise: Promise<unknown>): Promise<string[]> {
  return (await issuesOf(promise)).map((issue) => issue.path);
}

/** The one YAML example of a README section (`## section`). */
export async function exampleOf(section: string): Promise<string> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start).toBeGreaterThan(0);
  const body = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  const blocks = [...body.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}
