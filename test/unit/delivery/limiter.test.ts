// The process-wide delivery limiter: at most `size` slots out at once, handed to waiters first come, first
// served, each released once; a delivery may take several slots (a big message takes two).
import { describe, expect, it } from 'vitest';
import { Limiter } from '../../../src/delivery/limiter.ts';

/** Resolves once the promise jobs queued so far (and the ones they queue) have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('gives out `size` slots at once and the next one only when a slot comes back', async () => {
    const limiter = new Limiter(2);
    const first = await limiter.acquire();
    await limiter.acquire();
    let third = false;
    const waiting = limiter.acquire().then((release) => {
      third = true;
      return release;
    });
    await settle();
    expect(third).toBe(false);
    first();
    await waiting;
    expect(third).toBe(true);
  });

  it('hands freed slots to waiters in the order they asked', async () => {
    const limiter = new Limiter(1);
    const held = await limiter.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      limiter.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    held();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });

  it('counts a slot released twice once', async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire();
    release();
    release();
    const again = await limiter.acquire();
    let other = false;
    void limiter.acquire().then(() => {
      other = true;
    });
    await settle();
    // The second release did not free a slot that was never taken: one holder at a time still.
    expect(other).toBe(false);
    again();
    await settle();
    expect(other).toBe(true);
  });

  it('gives a weighted acquire its slots together, and lets no later asker pass it', async () => {
    const limiter = new Limiter(4);
    const small = await limiter.acquire();
    const other = await limiter.acquire();
    const started: string[] = [];
    const big = limiter.acquire(3).then((release) => {
      started.push('big');
      return release;
    });
    const after = limiter.acquire().then((release) => {
      started.push('after');
      return release;
    });
    await settle();
    // Two of four out: the big one waits for three, and the one behind it waits too (first come, first served).
    expect(started).toEqual([]);
    small();
    await settle();
    expect(started).toEqual(['big']);
    other();
    await settle();
    expect(started).toEqual(['big', 'after']);
    (await big)();
    (await after)();
    // All four free again.
    const four = await Promise.all([1, 2, 3, 4].map(() => limiter.acquire()));
    expect(four).toHaveLength(4);
  });

  it('caps a weight at the size, so a big message still runs alone under a small limit', async () => {
    const limiter = new Limiter(1);
    const release = await limiter.acquire(2);
    let next = false;
    void limiter.acquire().then(() => {
      next = true;
    });
    await settle();
    expect(next).toBe(false);
    release();
    await settle();
    expect(next).toBe(true);
  });
});
