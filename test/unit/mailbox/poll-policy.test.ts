// When a mailbox is polled again: LOGIN-DELAY (RFC 2449 §6.8, RFC 3206) and follow-up polls.
import { describe, expect, it } from 'vitest';
import {
  FOLLOW_UP_DELAY_MS,
  followUpDelayMs,
  isCredentialFailure,
  loginDelayMs,
  MAX_LOGIN_DELAY_MS,
  notBeforeAfterFailure,
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

  it('counts the next allowed login from the session start; a refusal waits one poll interval', () => {
    expect(notBeforeAfterSession(NOW, undefined)).toBeUndefined();
    expect(notBeforeAfterSession(NOW, 300_000)).toBe(NOW + 300_000);
    expect(notBeforeAfterRefusal(NOW, 60_000)).toBe(NOW + 60_000);
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

describe('notBeforeAfterFailure', () => {
  const MINUTE = 60_000;

  it('refused credentials wait one interval, then twice as long each time, at most an hour', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 50].map(
      (failures) => notBeforeAfterFailure('POP3_AUTH_FAILED', failures, MINUTE, NOW)! - NOW,
    );
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((m) => m * MINUTE));
    expect(notBeforeAfterFailure('POP3_AUTH_FAILED', 1, 5 * MINUTE, NOW)).toBe(NOW + 5 * MINUTE);
    expect(isCredentialFailure('POP3_AUTH_FAILED')).toBe(true);
  });

  it('other failures (a cut connection, a busy server, an outage) do not back off here', () => {
    for (const code of [
      'POP3_CONNECTION_CLOSED',
      'POP3_IN_USE',
      'POP3_SYS_TEMP',
      'OAUTH_ENDPOINT_UNAVAILABLE',
    ]) {
      expect([code, notBeforeAfterFailure(code, 5, MINUTE, NOW)]).toEqual([code, undefined]);
      expect(isCredentialFailure(code)).toBe(false);
    }
  });
});
