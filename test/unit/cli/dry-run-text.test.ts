// The text of `pophook poll --dry-run`: counts per list, the first messages by name, the rest counted.
import { describe, expect, it } from 'vitest';
import { formatDryRun } from '../../../src/cli/dry-run-text.ts';

describe('formatDryRun', () => {
  it('shows each non-empty list with its count and sample, and a locked mailbox as such', () => {
    const text = formatDryRun([
      {
        mailbox: 'archive',
        outcome: 'ok',
        listed: 12,
        startAt: '2026-01-01',
        delete: { count: 0, bytes: 0, sample: [] },
        fetch: { count: 11, bytes: 5500, sample: [{ uidl: 'AAQk+/1=', size: 500, subject: 'Invoice 7' }] },
        skip: { count: 1, bytes: 300, sample: [{ uidl: 'u-old', size: 300 }] },
        tooLarge: { count: 0, bytes: 0, sample: [] },
        remaining: 3,
      },
      { mailbox: 'support', outcome: 'locked' },
    ]);
    expect(text).toContain(
      'archive: 12 listed, start point 2026-01-01 not done yet (dry run: nothing changed)',
    );
    expect(text).toContain(
      '  11 would fetch and deliver, 5500 bytes\n    AAQk+/1=  500  Invoice 7\n    … and 10 more',
    );
    expect(text).toContain(
      '  1 would skip (start point: recorded as seen, left on the server), 300 bytes\n    u-old  300\n',
    );
    expect(text).toContain('  3 left for later sessions (batch budget)');
    expect(text).not.toContain('would DELE');
    expect(text).toContain('support: a session is running now (mailbox locked); try again');
  });
});
