// The watchdog's decisions (pure) and its loop with fake time: recover once, give up a period later.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  decide,
  staleSchedules,
  Watchdog,
  type WatchdogTarget,
  workerProblem,
} from '../../../src/ops/watchdog.ts';

const PERIOD = 30_000;

describe('decide', () => {
  it('recovers on the first wedged look, waits a period, then gives up', () => {
    const first = decide({}, 'stuck', 1_000, PERIOD);
    expect(first.action).toBe('recover');
    const soon = decide(first.state, 'stuck', 1_000 + PERIOD - 1, PERIOD);
    expect(soon.action).toBe('none');
    expect(decide(soon.state, 'stuck', 1_000 + PERIOD, PERIOD).action).toBe('fatal');
  });

  it('forgets the episode once healthy, so a later wedge is recovered again', () => {
    const wedged = decide({}, 'stuck', 0, PERIOD);
    const healed = decide(wedged.state, undefined, 10_000, PERIOD);
    expect(healed).toEqual({ state: {}, action: 'healed' });
    expect(decide(healed.state, 'stuck', 10 * PERIOD, PERIOD).action).toBe('recover');
    expect(decide({}, undefined, 0, PERIOD).action).toBe('none');
  });
});

describe('workerProblem', () => {
  const stall = 300_000;
  it('never calls an idle queue stalled', () => {
    expect(
      workerProblem({ running: true, waiting: 0, lastProgressAt: 0, lastIdleAt: 0 }, 10 * stall, stall),
    ).toBe(undefined);
  });

  it('flags waiting jobs with no progress since the queue was last idle', () => {
    const p = { running: true, waiting: 4, lastProgressAt: 0, lastIdleAt: 100_000 };
    expect(workerProblem(p, 100_000 + stall - 1, stall)).toBeUndefined();
    expect(workerProblem(p, 100_000 + stall, stall)).toMatch(/4 job\(s\) waiting/);
    expect(workerProblem({ ...p, lastProgressAt: 200_000 }, 100_000 + stall, stall)).toBeUndefined();
  });

  it('flags a worker that is not running', () => {
    expect(workerProblem({ running: false, waiting: 0, lastProgressAt: 0, lastIdleAt: 0 }, 0, stall)).toMatch(
      /not running/,
    );
  });
});

describe('staleSchedules', () => {
  const m = { id: 'support', pollIntervalMs: 60_000, hasScheduler: true };
  it('flags a missing job scheduler at once', () => {
    expect(staleSchedules([{ ...m, hasScheduler: false }], 0, 1, 0, 3)).toEqual(['support']);
  });

  it('flags no completed poll for N intervals only while nothing waits for a worker', () => {
    const view = { ...m, lastPollAt: 0 };
    expect(staleSchedules([view], 0, 180_000, 0, 3)).toEqual([]);
    expect(staleSchedules([view], 0, 180_001, 0, 3)).toEqual(['support']);
    expect(staleSchedules([view], 2, 180_001, 0, 3)).toEqual([]);
    expect(staleSchedules([view], 0, 180_001, 100_000, 3)).toEqual([]);
  });
});

describe('Watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function target(problem: () => string | undefined) {
    const recover = vi.fn(async () => {});
    const t: WatchdogTarget = { check: 'workers', inspect: async () => problem(), recover };
    return { t, recover };
  }

  it('recovers a wedged target, and calls onFatal when a period later it is still wedged', async () => {
    const { t, recover } = target(() => 'poll: 3 job(s) waiting');
    const onFatal = vi.fn();
    const dog = new Watchdog([t], { periodMs: PERIOD, onFatal });
    dog.start();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(recover).toHaveBeenCalledTimes(1);
    expect(dog.problems().get('workers')).toMatch(/waiting/);
    expect(onFatal).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(onFatal).toHaveBeenCalledWith('workers: poll: 3 job(s) waiting');
    await vi.advanceTimersByTimeAsync(5 * PERIOD);
    expect(onFatal).toHaveBeenCalledTimes(1);
    dog.stop();
  });

  it('stays quiet when the recovery helped', async () => {
    let problem: string | undefined = 'stuck';
    const { t, recover } = target(() => problem);
    recover.mockImplementation(async () => {
      problem = undefined;
    });
    const onFatal = vi.fn();
    const dog = new Watchdog([t], { periodMs: PERIOD, onFatal });
    dog.start();
    await vi.advanceTimersByTimeAsync(4 * PERIOD);
    expect(recover).toHaveBeenCalledTimes(1);
    expect(onFatal).not.toHaveBeenCalled();
    expect(dog.problems().size).toBe(0);
    dog.stop();
  });

  it('counts an inspection that never answers (a half-open Redis link) as a wedge', async () => {
    const onFatal = vi.fn();
    const recover = vi.fn(async () => {});
    const dog = new Watchdog([{ check: 'workers', inspect: () => new Promise(() => {}), recover }], {
      periodMs: PERIOD,
      onFatal,
    });
    dog.start();
    await vi.advanceTimersByTimeAsync(PERIOD + PERIOD / 2);
    expect(recover).toHaveBeenCalledTimes(1);
    expect(dog.problems().get('workers')).toMatch(/no answer from Redis/);
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(onFatal).toHaveBeenCalledTimes(1);
    dog.stop();
  });

  it('takes no decision while it cannot tell (Redis down)', async () => {
    const onFatal = vi.fn();
    const recover = vi.fn(async () => {});
    const dog = new Watchdog(
      [{ check: 'workers', inspect: () => Promise.reject(new Error('down')), recover }],
      {
        periodMs: PERIOD,
        onFatal,
      },
    );
    dog.start();
    await vi.advanceTimersByTimeAsync(5 * PERIOD);
    expect(recover).not.toHaveBeenCalled();
    expect(onFatal).not.toHaveBeenCalled();
    dog.stop();
  });
});
