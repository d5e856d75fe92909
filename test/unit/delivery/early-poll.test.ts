// After deliveries in delete mode: one early poll per mailbox per window, however many deliveries land, and
// one more at the window's end for the deliveries it held back (a poll already under way may have read the
// ledger before them).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EARLY_POLL_DELAY_MS, EarlyPolls } from '../../../src/delivery/early-poll.ts';

describe('EarlyPolls', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function recorder() {
    const asked: string[] = [];
    const failed: string[] = [];
    const polls = new EarlyPolls(
      async (mailbox, delayMs) => {
        expect(delayMs).toBe(EARLY_POLL_DELAY_MS);
        if (mailbox === 'down') throw new Error('redis down');
        asked.push(mailbox);
      },
      (mailbox) => failed.push(mailbox),
    );
    return { asked, failed, polls };
  }

  it('asks at once, once per mailbox per window, and not again when the window held nothing back', async () => {
    const { asked, polls } = recorder();
    await polls.afterDelivered('a');
    await polls.afterDelivered('b');
    expect(asked).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(5 * EARLY_POLL_DELAY_MS);
    expect(asked).toEqual(['a', 'b']);
    await polls.afterDelivered('a');
    expect(asked).toEqual(['a', 'b', 'a']);
    polls.close();
  });

  it('asks again at the end of a window that held deliveries back, and keeps going while they land', async () => {
    const { asked, polls } = recorder();
    await polls.afterDelivered('a');
    await vi.advanceTimersByTimeAsync(EARLY_POLL_DELAY_MS - 1);
    await polls.afterDelivered('a');
    await polls.afterDelivered('a');
    expect(asked).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toEqual(['a', 'a']);
    // A delivery in the trailing ask's window brings one more at its end; then quiet.
    await polls.afterDelivered('a');
    await vi.advanceTimersByTimeAsync(EARLY_POLL_DELAY_MS);
    expect(asked).toEqual(['a', 'a', 'a']);
    await vi.advanceTimersByTimeAsync(5 * EARLY_POLL_DELAY_MS);
    expect(asked).toEqual(['a', 'a', 'a']);
    polls.close();
  });

  it('a failed ask leaves no window: the next delivery asks at once', async () => {
    const { failed, polls } = recorder();
    await expect(polls.afterDelivered('down')).rejects.toThrow('redis down');
    await expect(polls.afterDelivered('down')).rejects.toThrow('redis down');
    expect(failed).toEqual([]);
    polls.close();
  });

  it('reports a trailing ask that failed (nothing awaits it)', async () => {
    let down = false;
    const failed: string[] = [];
    const polls = new EarlyPolls(
      async () => {
        if (down) throw new Error('redis down');
      },
      (mailbox) => failed.push(mailbox),
    );
    await polls.afterDelivered('a');
    await polls.afterDelivered('a');
    down = true;
    await vi.advanceTimersByTimeAsync(EARLY_POLL_DELAY_MS);
    expect(failed).toEqual(['a']);
    await expect(polls.afterDelivered('a')).rejects.toThrow('redis down');
    polls.close();
  });

  it('close drops the pending trailing asks', async () => {
    const { asked, polls } = recorder();
    await polls.afterDelivered('a');
    await polls.afterDelivered('a');
    polls.close();
    await vi.advanceTimersByTimeAsync(5 * EARLY_POLL_DELAY_MS);
    expect(asked).toEqual(['a']);
  });
});
