// Gmail's pace: a backlog is drained by sessions one after another while the capped listing comes back
// full, each spaced by LOGIN-DELAY unless the mailbox says `loginDelay: ignore`.
import { describe, expect, it } from 'vitest';
import {
  FOLLOW_UP_DELAY_MS,
  followUpDelayMs,
  honouredLoginDelayMs,
  leftForLater,
  notBeforeAfterSession,
} from '../../../src/mailbox/poll-policy.ts';

const NOW = 1_700_000_000_000;
const GMAIL_CAP = 250;

describe('a capped listing', () => {
  it('a full listing with new mail in it means more wait behind it', () => {
    expect(leftForLater({ remaining: 0, listed: 250, fetched: 250 }, GMAIL_CAP)).toBe(1);
    expect(leftForLater({ remaining: 0, listed: 251, fetched: 3 }, GMAIL_CAP)).toBe(1);
    expect(leftForLater({ remaining: 7, listed: 250, fetched: 243 }, GMAIL_CAP)).toBe(8);
  });

  it('a short listing, a full one with nothing new (recent: mode), or no cap: only the batch remainder', () => {
    expect(leftForLater({ remaining: 0, listed: 249, fetched: 249 }, GMAIL_CAP)).toBe(0);
    expect(leftForLater({ remaining: 0, listed: 250, fetched: 0 }, GMAIL_CAP)).toBe(0);
    expect(leftForLater({ remaining: 0, listed: 5000, fetched: 500 }, undefined)).toBe(0);
    expect(leftForLater({ remaining: 4, listed: 5000, fetched: 500 }, undefined)).toBe(4);
  });
});

describe('LOGIN-DELAY 300 with a backlog', () => {
  it('honour: the follow-up waits for the announced delay', () => {
    const notBefore = notBeforeAfterSession(NOW, honouredLoginDelayMs(300_000, 'honour'));
    const left = leftForLater({ remaining: 0, listed: 250, fetched: 250 }, GMAIL_CAP);
    expect(followUpDelayMs(left, notBefore, NOW + 20_000)).toBe(280_000);
  });

  it('ignore: the follow-up comes at once', () => {
    const notBefore = notBeforeAfterSession(NOW, honouredLoginDelayMs(300_000, 'ignore'));
    expect(notBefore).toBeUndefined();
    const left = leftForLater({ remaining: 0, listed: 250, fetched: 250 }, GMAIL_CAP);
    expect(followUpDelayMs(left, notBefore, NOW + 20_000)).toBe(FOLLOW_UP_DELAY_MS);
  });

  it('10,000 messages at 250 a session take 40 sessions: over three hours when LOGIN-DELAY is honoured', () => {
    const sessions = Math.ceil(10_000 / GMAIL_CAP);
    expect(sessions).toBe(40);
    expect(((sessions - 1) * 300_000) / 3_600_000).toBeGreaterThan(3);
  });
});
