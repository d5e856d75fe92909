// The retry rules: status classes, Retry-After parsing, backoff with full jitter, giving up.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyStatus,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelayMs,
  parseRetryAfter,
  retryDelayMs,
  shouldGiveUp,
} from '../../../src/webhook/policy.ts';

const NOW = Date.parse('2024-03-01T12:00:00Z');

describe('classifyStatus', () => {
  it.each([
    [200, 'success'],
    [204, 'success'],
    [299, 'success'],
    [301, 'redirect'],
    [302, 'redirect'],
    [308, 'redirect'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [408, 'retryable'],
    [409, 'permanent'],
    [410, 'permanent'],
    [413, 'permanent'],
    [422, 'permanent'],
    [425, 'retryable'],
    [429, 'retryable'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [599, 'retryable'],
  ])('%i is %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['1', 1_000],
    ['120', 120_000],
    [' 30 ', 30_000],
    ['3600', MAX_RETRY_AFTER_MS],
    ['86400', MAX_RETRY_AFTER_MS],
    ['99999999999999999999999', MAX_RETRY_AFTER_MS],
  ])('reads delay-seconds %j as %i ms (capped at 1 h)', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it.each([
    ['IMF-fixdate', 'Fri, 01 Mar 2024 12:00:45 GMT', 45_000],
    ['obsolete RFC 850 date', 'Friday, 01-Mar-24 12:01:00 GMT', 60_000],
    ['asctime date (GMT without saying so)', 'Fri Mar  1 12:00:10 2024', 10_000],
    ['date in the past', 'Fri, 01 Mar 2024 11:00:00 GMT', 0],
    ['date a day ahead', 'Sat, 02 Mar 2024 12:00:00 GMT', MAX_RETRY_AFTER_MS],
  ])('reads an %s', (_name, value, expected) => {
    expect(parseRetryAfter(value, new Date(NOW))).toBe(expected);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['negative', '-5'],
    ['fractional', '1.5'],
    ['garbage', 'soon'],
    ['an ISO date (not an HTTP-date)', '2024-03-02T12:00:10Z'],
    ['a day name and nonsense', 'Fri, the day after'],
  ])('ignores a %s value', (_name, value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['2', '9'], NOW)).toBe(2_000);
  });
});

// The schema's defaults (webhooks.<id>.retryDelay 5s, retryMaxDelay 30m).
const BACKOFF = { baseMs: 5_000, maxMs: 30 * 60_000 };

describe('retryDelayMs', () => {
  const top = () => 0.999_999_999;

  it('draws from [0, base·2^(attempt-1)) with full jitter', () => {
    expect(retryDelayMs(1, { ...BACKOFF, random: () => 0 })).toBe(0);
    expect(retryDelayMs(1, { ...BACKOFF, random: () => 0.5 })).toBe(2_500);
    expect(retryDelayMs(1, { ...BACKOFF, random: top })).toBe(4_999);
    expect(retryDelayMs(3, { ...BACKOFF, random: () => 0.5 })).toBe(10_000);
    expect(retryDelayMs(2, { ...BACKOFF, baseMs: 100, random: () => 0.5 })).toBe(100);
  });

  it('stays within its bounds and under the cap for any attempt and randomness', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const delay = retryDelayMs(n, { ...BACKOFF, random: () => r });
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(30 * 60_000, 5_000 * 2 ** (n - 1)));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it('has a ceiling that grows with the attempt and then holds at maxMs', () => {
    const ceilings = Array.from({ length: 40 }, (_, i) =>
      retryDelayMs(i + 1, { ...BACKOFF, maxMs: 60_000, random: top }),
    );
    for (let i = 1; i < ceilings.length; i++)
      expect(ceilings[i]).toBeGreaterThanOrEqual(ceilings[i - 1] ?? 0);
    expect(ceilings.at(-1)).toBe(59_999);
    expect(retryDelayMs(2_000, { ...BACKOFF, maxMs: 60_000, random: top })).toBe(59_999);
  });

  it('treats attempt 0, fractions and NaN as the first attempt', () => {
    for (const attempt of [0, -3, 1.7, Number.NaN]) {
      expect(retryDelayMs(attempt, { ...BACKOFF, random: () => 0.5 })).toBe(2_500);
    }
  });

  it('never waits less than Retry-After, even past maxMs, but never past the 1 h cap', () => {
    expect(retryDelayMs(1, { ...BACKOFF, retryAfterMs: 20_000, random: () => 0 })).toBe(20_000);
    expect(retryDelayMs(1, { ...BACKOFF, retryAfterMs: 1_000, random: () => 0.5 })).toBe(2_500);
    expect(retryDelayMs(1, { ...BACKOFF, maxMs: 10_000, retryAfterMs: 40 * 60_000, random: () => 0 })).toBe(
      40 * 60_000,
    );
    expect(retryDelayMs(1, { ...BACKOFF, retryAfterMs: 5 * MAX_RETRY_AFTER_MS, random: () => 0 })).toBe(
      MAX_RETRY_AFTER_MS,
    );
    expect(retryDelayMs(1, { ...BACKOFF, retryAfterMs: -1, random: () => 0 })).toBe(0);
  });
});

describe('shouldGiveUp', () => {
  const day = 24 * 60 * 60_000;

  it('gives up once retryForMs has passed since the first attempt', () => {
    expect(shouldGiveUp(NOW, NOW + day - 1, day)).toBe(false);
    expect(shouldGiveUp(NOW, NOW + day, day)).toBe(true);
    expect(shouldGiveUp(new Date(NOW), new Date(NOW + 2 * day), day)).toBe(true);
  });

  it('does not give up on a clock that went backwards', () => {
    expect(shouldGiveUp(NOW, NOW - 5_000, day)).toBe(false);
  });
});

describe('nextAttemptDelayMs', () => {
  const webhook = { retryDelayMs: 1_000, retryMaxDelayMs: 8_000 };

  it("uses the webhook's backoff: within the doubled ceiling, never past the maximum", () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const delay = nextAttemptDelayMs(attempt, webhook, new Error('x'));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(8_000, 1_000 * 2 ** (attempt - 1)));
    }
  });

  it("waits at least the Retry-After carried in the error's details", () => {
    const error = { details: { retryAfterMs: 120_000 } };
    expect(nextAttemptDelayMs(1, webhook, error)).toBe(120_000);
  });
});
