// The README's "Microsoft 365" and "Gmail" sections each end in a complete configuration: it must pass the
// schema, with the secret files it names being the only thing missing on a test machine.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { issuesOf, parse } from './helpers.ts';

async function exampleOf(section: string): Promise<string> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start).toBeGreaterThan(0);
  const body = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  const blocks = [...body.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

describe('README OAuth examples', () => {
  for (const section of ['Microsoft 365', 'Gmail']) {
    it(`${section}: valid, only the named secret files unreadable`, async () => {
      const issues = await issuesOf(parse(await exampleOf(section)));
      expect(issues.length).toBeGreaterThan(0);
      for (const issue of issues) {
        expect(issue.path).toMatch(/File$/);
        expect(issue.message).toMatch(/^cannot read \/run\/secrets\/.* \(ENOENT\)$/);
      }
    });
  }
});
