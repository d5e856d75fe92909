// The `watchdog` section: how often it looks, when waiting jobs mean a wedged worker, and after how many
// poll intervals a mailbox is stale; durations in milliseconds, bounds reported with their path.

import { describe, expect, it } from 'vitest';
import { configText, issuePaths, parse } from './helpers.ts';

describe('watchdog', () => {
  it('defaults to a 30 s period, a 5 min stall threshold and 3 intervals', async () => {
    expect((await parse(configText())).watchdog).toEqual({
      periodMs: 30_000,
      stallAfterMs: 300_000,
      staleIntervals: 3,
    });
  });

  it('reads durations, and an interpolated staleIntervals', async () => {
    const text = configText(
      (doc) => (doc.watchdog = { period: '2s', stallAfter: '15s', staleIntervals: '${STALE}' }),
    );
    const config = await parse(text, { STALE: '5' });
    expect(config.watchdog).toEqual({ periodMs: 2_000, stallAfterMs: 15_000, staleIntervals: 5 });
    expect(Object.isFrozen(config.watchdog)).toBe(true);
  });

  it('keeps the defaults of the keys not given', async () => {
    const config = await parse(configText((doc) => (doc.watchdog = { stallAfter: '1m' })));
    expect(config.watchdog).toEqual({ periodMs: 30_000, stallAfterMs: 60_000, staleIntervals: 3 });
  });

  it('refuses a period under 1 s or over 1 h, a duration without unit, 0 intervals, unknown keys', async () => {
    for (const period of ['999ms', '2h', 30]) {
      const text = configText((doc) => (doc.watchdog = { period }));
      expect(await issuePaths(parse(text)), String(period)).toEqual(['watchdog.period']);
    }
    const text = configText((doc) => (doc.watchdog = { stallAfter: '5', staleIntervals: 0, periodMs: 1000 }));
    expect(await issuePaths(parse(text))).toEqual([
      'watchdog.periodMs',
      'watchdog.staleIntervals',
      'watchdog.stallAfter',
    ]);
  });
});
