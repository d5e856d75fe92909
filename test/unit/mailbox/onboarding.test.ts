// The start point's decision (pure): once per start point, resumed after a crash, `now` then holding back
// only mail dated before onboarding began; and the header reading it decides by.
import { describe, expect, it } from 'vitest';
import { parseHeaders } from '../../../src/mailbox/message-headers.ts';
import { startPlan } from '../../../src/mailbox/onboarding.ts';

const NOW = Date.UTC(2026, 11, 3, 12);
const JUNE = Date.UTC(2026, 5, 1);

describe('startPlan', () => {
  it('everything: nothing to do, marker or not', () => {
    expect(startPlan({ mode: 'everything' }, undefined, NOW)).toEqual({ hold: 'none' });
    expect(startPlan({ mode: 'everything' }, { startAt: 'now', startedAt: 1 }, NOW)).toEqual({
      hold: 'none',
    });
  });

  it('now: the first time holds back every new message; once done, nothing', () => {
    expect(startPlan({ mode: 'now' }, undefined, NOW)).toEqual({
      hold: 'all',
      startAt: 'now',
      startedAt: NOW,
    });
    expect(startPlan({ mode: 'now' }, { startAt: 'now', startedAt: 5, doneAt: 6 }, NOW)).toEqual({
      hold: 'none',
    });
  });

  it('now, begun but not done (a crash midway): holds back only mail dated before it began', () => {
    expect(startPlan({ mode: 'now' }, { startAt: 'now', startedAt: JUNE }, NOW)).toEqual({
      hold: 'before',
      sinceMs: JUNE,
      startAt: 'now',
      startedAt: JUNE,
    });
  });

  it('a date: holds back mail dated before it, begun or not; done: nothing', () => {
    const date = { mode: 'date', sinceMs: JUNE, text: '2026-06-01' } as const;
    expect(startPlan(date, undefined, NOW)).toMatchObject({ hold: 'before', sinceMs: JUNE, startedAt: NOW });
    expect(startPlan(date, { startAt: '2026-06-01', startedAt: 7 }, NOW)).toMatchObject({ startedAt: 7 });
    expect(startPlan(date, { startAt: '2026-06-01', startedAt: 7, doneAt: 8 }, NOW)).toEqual({
      hold: 'none',
    });
  });

  it('a changed start point onboards again with the new value', () => {
    const done = { startAt: 'now', startedAt: 1, doneAt: 2 };
    const date = { mode: 'date', sinceMs: JUNE, text: '2026-06-01' } as const;
    expect(startPlan(date, done, NOW)).toMatchObject({
      hold: 'before',
      startAt: '2026-06-01',
      startedAt: NOW,
    });
  });
});

describe('parseHeaders', () => {
  it('reads Date (folded, commented, obsolete zones) and decodes Subject', () => {
    const block =
      'Received: x\r\nDate: Thu, 3 Dec 2026\r\n 11:41:19 +0000 (UTC)\r\nSubject: =?UTF-8?B?w4RyZ2Vy?=';
    expect(parseHeaders(block)).toEqual({ dateMs: Date.UTC(2026, 11, 3, 11, 41, 19), subject: 'Ärger' });
    expect(parseHeaders('Date: Mon, 1 Jan 2024 10:00:00 EST').dateMs).toBe(Date.UTC(2024, 0, 1, 15));
  });

  it('a missing, empty or unreadable Date gives none (the message is then kept)', () => {
    expect(parseHeaders('Subject: x').dateMs).toBeUndefined();
    expect(parseHeaders('Date:\r\nSubject: x').dateMs).toBeUndefined();
    expect(parseHeaders('Date: the day after tomorrow').dateMs).toBeUndefined();
  });

  it('the first Date field counts, as mail parsers read duplicates', () => {
    expect(parseHeaders('Date: 1 Jan 2020 00:00 +0000\r\nDate: 1 Jan 2030 00:00 +0000').dateMs).toBe(
      Date.UTC(2020, 0, 1),
    );
  });
});
