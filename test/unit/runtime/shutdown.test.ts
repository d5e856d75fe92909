// Two-stage shutdown: every part closes once whatever the number of signals, force reaches each part
// once, and a forced stop that hangs is given up on after its grace period.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type StoppablePart, TwoStageShutdown } from '../../../src/runtime/shutdown.ts';

function part(closeTakes: Promise<void> = Promise.resolve()) {
  const calls = { close: 0, force: 0 };
  const stoppable: StoppablePart = {
    close: () => {
      calls.close += 1;
      return closeTakes;
    },
    force: () => {
      calls.force += 1;
    },
  };
  return { calls, stoppable };
}

describe('TwoStageShutdown', () => {
  afterEach(() => vi.useRealTimers());

  it('drains each part once and finishes once, however often it is asked', async () => {
    const a = part();
    const b = part();
    const finish = vi.fn(async () => {});
    const shutdown = new TwoStageShutdown([a.stoppable, b.stoppable], finish, 1_000);
    await Promise.all([shutdown.drain(), shutdown.drain(), shutdown.drain()]);
    expect([a.calls, b.calls]).toEqual([
      { close: 1, force: 0 },
      { close: 1, force: 0 },
    ]);
    expect(finish).toHaveBeenCalledTimes(1);
    expect(shutdown.forced).toBe(false);
  });

  it('a force during the drain reaches every part once and does not close anything a second time', async () => {
    let release = () => {};
    const slow = part(new Promise<void>((resolve) => (release = resolve)));
    const finish = vi.fn(async () => {});
    const shutdown = new TwoStageShutdown([slow.stoppable], finish, 60_000);
    const drained = shutdown.drain();
    const forced = shutdown.force();
    void shutdown.force();
    expect(slow.calls).toEqual({ close: 1, force: 1 });
    release();
    await Promise.all([drained, forced]);
    expect(finish).toHaveBeenCalledTimes(1);
    expect(shutdown.forced).toBe(true);
  });

  it('a force with no drain before it (Redis down) reaches each part before its close', async () => {
    const order: string[] = [];
    const stoppable: StoppablePart = {
      close: async () => {
        order.push('close');
      },
      force: () => {
        order.push('force');
      },
    };
    const finish = vi.fn(async () => {});
    await new TwoStageShutdown([stoppable], finish, 1_000).force();
    expect(order).toEqual(['force', 'close']);
    expect(finish).toHaveBeenCalledTimes(1);
  });

  it('gives up on a forced stop that hangs after the grace period', async () => {
    vi.useFakeTimers();
    const stuck = part(new Promise<void>(() => {}));
    const finish = vi.fn(async () => {});
    const shutdown = new TwoStageShutdown([stuck.stoppable], finish, 5_000);
    let done = false;
    void shutdown.force().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(finish).not.toHaveBeenCalled();
  });
});
