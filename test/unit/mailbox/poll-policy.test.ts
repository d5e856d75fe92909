// When a mailbox is polled again: LOGIN-DELAY (RFC 2449 §6.8, RFC 3206), follow-up polls, and each refusal
// of a login (RFC 2449 §8.1, RFC 3206) with its own state and wait.
import { describe, expect, it } from 'vitest';
import {
  BLOCKED_RETRY_MS,
  FOLLOW_UP_DELAY_MS,
  followUpDelayMs,
  isNotNow,
  loginDelayMs,
  loginRefusal,
  MAX_LOGIN_DELAY_MS,
  notBeforeAfterRefusal,
  notBeforeAfterSession,
  pollGate,
} from '../../../src/mailbox/poll-policy.ts';

const NOW = 1_700_000_000_000;

describe('LOGIN-DELAY', () => {
  it('turns the announced seconds into ms, capped at a day; none announced: none', () => {
    expect(loginDelayMs(undefined)).toBeUndefined();
    expect(loginDelayMs(0)).toBe(0);
    expect(loginDelayMs(300)).toBe(300_000);
    expect(loginDelayMs(10 ** 9)).toBe(MAX_LOGIN_DELAY_MS);
  });

  it('counts the next allowed login from the session start', () => {
    expect(notBeforeAfterSession(NOW, undefined)).toBeUndefined();
    expect(notBeforeAfterSession(NOW, 300_000)).toBe(NOW + 300_000);
  });
});

describe('pollGate', () => {
  it('lets a poll run when no delay is pending or it has passed', () => {
    expect(pollGate(undefined, 'schedule', NOW)).toEqual({ run: true });
    expect(pollGate(NOW, 'early', NOW)).toEqual({ run: true });
    expect(pollGate(NOW - 1, 'manual', NOW)).toEqual({ run: true });
  });

  it('before the delay: a scheduled poll is skipped, an early or manual one moved to when it ends', () => {
    expect(pollGate(NOW + 5_000, 'schedule', NOW)).toEqual({ run: false });
    expect(pollGate(NOW + 5_000, 'early', NOW)).toEqual({ run: false, requeueInMs: 5_000 });
    expect(pollGate(NOW + 7_000, 'manual', NOW)).toEqual({ run: false, requeueInMs: 7_000 });
  });
});

describe('followUpDelayMs', () => {
  it('none when the session left nothing for later', () => {
    expect(followUpDelayMs(0, undefined, NOW)).toBeUndefined();
    expect(followUpDelayMs(0, NOW + 60_000, NOW)).toBeUndefined();
  });

  it('soon when messages are left, or when the server allows the next login', () => {
    expect(followUpDelayMs(10, undefined, NOW)).toBe(FOLLOW_UP_DELAY_MS);
    expect(followUpDelayMs(10, NOW + 300_000, NOW)).toBe(300_000);
    expect(followUpDelayMs(10, NOW + 10, NOW)).toBe(FOLLOW_UP_DELAY_MS);
  });
});

describe('loginRefusal', () => {
  it('maps each reply to a login to its own state', () => {
    const cases = [
      ['POP3_AUTH_FAILED', 'PASS ****', 'credentials'],
      ['POP3_AUTH_FAILED', 'AUTH XOAUTH2 ****', 'credentials'],
      ['POP3_SYS_TEMP', 'PASS ****', 'temporary'],
      ['POP3_SYS_TEMP', 'USER alice', 'temporary'],
      ['POP3_IN_USE', 'APOP alice ****', 'in-use'],
      ['POP3_LOGIN_DELAY', 'PASS ****', 'login-delay'],
      ['POP3_SYS_PERM', 'pass ****', 'blocked'],
    ] as const;
    for (const [code, command, state] of cases) {
      expect([code, command, loginRefusal({ code, command })]).toEqual([code, command, state]);
    }
  });

  it('is no refusal when the reply answered another command, or the failure is not a reply at all', () => {
    expect(loginRefusal({ code: 'POP3_SYS_TEMP', command: 'RETR 3' })).toBeUndefined();
    expect(loginRefusal({ code: 'POP3_SYS_PERM', command: 'UIDL' })).toBeUndefined();
    expect(loginRefusal({ code: 'POP3_CONNECTION_CLOSED', command: 'PASS ****' })).toBeUndefined();
    expect(loginRefusal({ code: 'OAUTH_INVALID_GRANT' })).toBeUndefined();
    expect(loginRefusal({ code: 'POP3_AUTH_FAILED' })).toBeUndefined();
    expect(loginRefusal({})).toBeUndefined();
  });

  it('only in-use and login-delay are "not now" outcomes; the others are failed polls', () => {
    expect(
      ['credentials', 'temporary', 'in-use', 'login-delay', 'blocked', undefined].map((r) =>
        isNotNow(r as never),
      ),
    ).toEqual([false, false, true, true, false, false]);
  });
});

describe('notBeforeAfterRefusal', () => {
  const MINUTE = 60_000;
  const waits = (
    refusal: Parameters<typeof notBeforeAfterRefusal>[0],
    failures: number[],
    extra: { pollIntervalMs?: number; announcedDelayMs?: number } = {},
  ) =>
    failures.map(
      (n) =>
        (notBeforeAfterRefusal(refusal, n, { pollIntervalMs: MINUTE, now: NOW, ...extra }) - NOW) / MINUTE,
    );

  it('refused credentials wait one interval, then twice as long each time, at most an hour', () => {
    expect(waits('credentials', [1, 2, 3, 4, 5, 6, 7, 50])).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    expect(waits('credentials', [1], { pollIntervalMs: 5 * MINUTE })).toEqual([5]);
  });

  it('[SYS/TEMP] and [IN-USE] double from one interval up to four', () => {
    expect(waits('temporary', [1, 2, 3, 4, 40])).toEqual([1, 2, 4, 4, 4]);
    expect(waits('in-use', [1, 2, 3, 4])).toEqual([1, 2, 4, 4]);
  });

  it('[LOGIN-DELAY] backs off the same, never sooner than the LOGIN-DELAY last announced (capped at a day)', () => {
    expect(waits('login-delay', [1, 2, 3])).toEqual([1, 2, 4]);
    expect(waits('login-delay', [1, 3], { announcedDelayMs: 5 * MINUTE })).toEqual([5, 5]);
    expect(waits('login-delay', [1], { announcedDelayMs: 10 * MAX_LOGIN_DELAY_MS })).toEqual([
      MAX_LOGIN_DELAY_MS / MINUTE,
    ]);
  });

  it('[SYS/PERM] waits an hour, or the poll interval when that is longer', () => {
    expect(waits('blocked', [1, 9])).toEqual([BLOCKED_RETRY_MS / MINUTE, BLOCKED_RETRY_MS / MINUTE]);
    expect(waits('blocked', [1], { pollIntervalMs: 120 * MINUTE })).toEqual([120]);
  });
});
