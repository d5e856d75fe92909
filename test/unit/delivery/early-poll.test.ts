// After deliveries in delete mode: one early poll per mailbox per window, however many deliveries land.
import { describe, expect, it } from 'vitest';
import { EARLY_POLL_DELAY_MS, EarlyPolls } from '../../../src/delivery/early-poll.ts';

describe('EarlyPolls', () => {
  it('asks once per mailbox per window, and again after it', async () => {
    let now = 1_000_000;
    const asked: Array<[string, number]> = [];
    const polls = new EarlyPolls(
      async (mailbox, delayMs) => {
        asked.push([mailbox, delayMs]);
      },
      () => now,
    );
    await polls.afterDelivered('a');
    await polls.afterDelivered('a');
    await polls.afterDelivered('b');
    now += EARLY_POLL_DELAY_MS - 1;
    await polls.afterDelivered('a');
    now += 1;
    await polls.afterDelivered('a');
    expect(asked).toEqual([
      ['a', EARLY_POLL_DELAY_MS],
      ['b', EARLY_POLL_DELAY_MS],
      ['a', EARLY_POLL_DELAY_MS],
    ]);
  });
});
