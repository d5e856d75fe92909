// The README's "Microsoft 365" and "Gmail" sections each end in a complete configuration: it must pass the
// schema, with the secret files it names being the only thing missing on a test machine.

import { describe, expect, it } from 'vitest';
import { exampleOf, issuesOf, parse } from './helpers.ts';

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
