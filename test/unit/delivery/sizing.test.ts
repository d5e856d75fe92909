// How much a deliver worker runs at once: parser threads (configured, or no more than the CPUs it has)
// and each deliver queue shard's share of the concurrency.
import { describe, expect, it } from 'vitest';
import { parseThreads, shardConcurrency } from '../../../src/delivery/sizing.ts';
import { configText, issuePaths, parse } from '../config/helpers.ts';

describe('parseThreads', () => {
  it('defaults to the smaller of concurrency and the CPU count', () => {
    expect(parseThreads({ concurrency: 4 }, 2)).toBe(2);
    expect(parseThreads({ concurrency: 1 }, 8)).toBe(1);
    expect(parseThreads({ concurrency: 16 }, 8)).toBe(8);
  });
  it('takes delivery.parseThreads when given', () => {
    expect(parseThreads({ concurrency: 4, parseThreads: 6 }, 2)).toBe(6);
  });
});

describe('shardConcurrency', () => {
  it('splits the concurrency evenly, the remainder to the first shards, at least one each', () => {
    expect(shardConcurrency(4, 1)).toEqual([4]);
    expect(shardConcurrency(5, 2)).toEqual([3, 2]);
    expect(shardConcurrency(2, 4)).toEqual([1, 1, 1, 1]);
  });
});

describe('delivery.parseThreads in the config', () => {
  it('is absent by default, read when given, refused out of 1..256 with its path', async () => {
    expect((await parse(configText())).delivery.parseThreads).toBeUndefined();
    const given = configText((doc) => (doc.delivery = { concurrency: 8, parseThreads: 3 }));
    expect((await parse(given)).delivery.parseThreads).toBe(3);
    for (const parseThreads of [0, 257, 'two']) {
      const text = configText((doc) => (doc.delivery = { parseThreads }));
      expect(await issuePaths(parse(text)), String(parseThreads)).toEqual(['delivery.parseThreads']);
    }
  });
});
