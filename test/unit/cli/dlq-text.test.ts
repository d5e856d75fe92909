import { describe, expect, it } from 'vitest';
import {
  formatDeadLetter,
  formatDeadLetters,
  formatDelayed,
  formatOutcome,
} from '../../../src/cli/dlq-text.ts';
import type { DeadLetterDetails } from '../../../src/delivery/dead-letters.ts';

const NOW = Date.parse('2026-12-03T09:00:00Z');

const letter = (over: Partial<DeadLetterDetails> = {}): DeadLetterDetails => ({
  mailbox: 'support',
  uidl: 'u1',
  webhookId: 'msg_1',
  entry: {
    state: 'dead',
    since: NOW - 60_000,
    attempts: 2,
    lastError: {
      code: 'WEBHOOK_HTTP_4XX',
      status: 400,
      statusText: 'Bad Request',
      reason: 'the webhook answered 400',
      body: '{}',
    },
  },
  subject: 'Hello',
  from: 'A <a@example.com>',
  date: '2026-12-01T10:00:00.000Z',
  size: 2048,
  rawInRedis: true,
  ...over,
});

describe('dead letters as text', () => {
  it('a fan-out message lists each target with its state and webhook-id', () => {
    const entry = {
      ...letter().entry,
      targets: {
        billing: { state: 'delivered' as const, id: 'msg_1_billing', status: 200 },
        tickets: { state: 'dead' as const, id: 'msg_1_tickets' },
      },
    };
    expect(formatDeadLetter(letter({ entry }), NOW)).toContain(
      '  targets billing delivered (msg_1_billing), tickets dead (msg_1_tickets)\n',
    );
  });

  it('one block per letter: the line, the message, the reason and the answer', () => {
    expect(formatDeadLetters([letter()], NOW)).toBe(
      [
        'msg_1  support/u1  dead since 2026-12-03T08:59:00.000Z (60 s ago) after 2 attempts',
        '  subject Hello',
        '  from    A <a@example.com>',
        '  date    2026-12-01T10:00:00.000Z',
        '  size    2.0 KiB (2048 bytes)',
        '  reason  WEBHOOK_HTTP_4XX: the webhook answered 400',
        '  answer  400 Bad Request',
        '  body    {}',
        '',
        '1 dead letter',
        '',
      ].join('\n'),
    );
  });

  it('writes no control character from mail and shows what is unknown as —', () => {
    const hostile = letter({ subject: 'a\x1b[2J\r\nFAKE: line\x9b', from: null, date: null, size: null });
    const text = formatDeadLetter(
      { ...hostile, headers: [{ name: 'X-Evil', value: '\x07bell' }], rawInRedis: false },
      NOW,
    );
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text).toContain('  subject a [2J FAKE: line \n');
    expect(text).toContain('  from    —\n');
    expect(text).toContain('  raw     not in Redis: the message is still on the POP3 server\n');
    expect(text).toContain('    X-Evil:  bell\n');
  });

  it('replay outcomes and deliveries waiting on backoff', () => {
    const d = letter();
    expect(formatOutcome(d, { outcome: 'timeout', state: 'queued' })).toBe(
      'msg_1 support/u1: timeout: still being retried\n',
    );
    expect(formatOutcome(d, { outcome: 'dead', entry: d.entry })).toBe(
      'msg_1 support/u1: dead again: WEBHOOK_HTTP_4XX 400 Bad Request\n',
    );
    expect(formatDelayed([], 0, NOW)).toBe('0 deliveries waiting on backoff\n');
  });
});
