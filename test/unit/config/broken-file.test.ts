// A broken file is rejected once, listing every problem with its exact path.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { configText, issuePaths, issuesOf, parse, SECRET } from './helpers.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url));

describe('a broken file', () => {
  it('reports all nine mistakes of broken.yml, each at its path, and nothing else', async () => {
    const paths = await issuePaths(loadConfig(fixture('broken.yml'), {}));
    expect(paths.sort()).toEqual(
      [
        'redis.url',
        'webhooks.tickets.secret',
        'webhooks.tickets.timeout',
        'webhooks.tickets.retrys',
        'mailboxes.support.port',
        'mailboxes.support.tls',
        'mailboxes.support.maxMessageSize',
        'mailboxes.support.webhook',
        'mailboxes["sales:eu"]',
      ].sort(),
    );
  });

  it('says the expectation, e.g. the known webhooks for an unknown one', async () => {
    const issues = await issuesOf(loadConfig(fixture('broken.yml'), {}));
    const webhook = issues.find((issue) => issue.path === 'mailboxes.support.webhook');
    expect(webhook?.message).toMatch(/tickets/);
  });

  it('reports problems of an entry whose id is also wrong', async () => {
    const text = configText((doc) => {
      doc.mailboxes['bad id'] = { host: 'h', webhook: 'tickets', password: 'x' };
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes["bad id"]', 'mailboxes["bad id"].username']);
  });

  it('lists the problems in the error message too, one per line', async () => {
    const error = await loadConfig(fixture('broken.yml'), {}).catch((caught: unknown) => caught);
    expect(String((error as Error).message).split('\n').length).toBe(10);
  });
});

describe('unknown keys', () => {
  it('rejects unknown keys at every level, each with its own path', async () => {
    const text = configText((doc) => {
      doc.extra = 1;
      doc.redis = { url: 'redis://127.0.0.1:6379', db: 2 };
      doc.mailboxes.support.pasword = 'typo';
      doc.mailboxes.support.Port = 995;
      doc.webhooks.tickets.retries = 3;
    });
    expect(await issuePaths(parse(text))).toEqual([
      'extra',
      'mailboxes.support.Port',
      'mailboxes.support.pasword',
      'redis.db',
      'webhooks.tickets.retries',
    ]);
  });
});

describe('YAML syntax errors', () => {
  it('are CONFIG_INVALID with the line and column as path', async () => {
    // .txt: the repository's linter parses .yml files and would stop at this one.
    const paths = await issuePaths(loadConfig(fixture('syntax-error.yml.txt'), {}));
    expect(paths).toEqual([expect.stringMatching(/^line \d+, column \d+$/)]);
  });

  it('an indentation slip is reported alone: its first error, not the cascade that follows it', async () => {
    // The yaml parser reports 9 errors for this file (and used to be followed by schema problems).
    const paths = await issuePaths(loadConfig(fixture('indent-slip.yml.txt'), {}));
    expect(paths).toEqual(['line 10, column 1']);
  });

  it.each([
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', 3],
    ['tab indentation', 'a:\n\tb: 1\n', 2],
    ['duplicate key', 'a: 1\na: 2\n', 2],
    ['unclosed flow mapping', 'a: { b: 1\nc: 2\n', 2],
  ])('%s names its line', async (_name, text, line) => {
    const paths = await issuePaths(parse(text));
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(new RegExp(`^line ${line}, column \\d+$`));
  });

  it('an empty file is a document without mappings, not a crash', async () => {
    expect(await issuePaths(parse(''))).toEqual(['(root)']);
    expect(await issuePaths(parse('- a\n- b\n'))).toEqual(['(root)']);
  });
});

describe('an indentation slip that still parses', () => {
  it('an empty entry followed by its settings one level too far left is one issue at the entry', async () => {
    const text = [
      'webhooks:',
      '  tickets:',
      '    url: https://tickets.example.com/hooks/email',
      `    secret: ${SECRET}`,
      'mailboxes:',
      '  support:',
      '  host: pop.example.com',
      '  username: support@example.com',
      '  password: x',
      '  webhook: tickets',
      '',
    ].join('\n');
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support']);
  });

  it('leaves an empty entry without misplaced settings to the schema', async () => {
    const text = configText((doc) => {
      doc.mailboxes.other = null;
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.other']);
  });
});

describe('loadConfig', () => {
  it('throws CONFIG_UNREADABLE for a missing file', async () => {
    const error = await loadConfig(fixture('does-not-exist.yml'), {}).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('CONFIG_UNREADABLE');
  });
});
