// How much a deliver worker runs at once: parser threads (one unless configured) and each deliver queue
// shard's share of the concurrency.
import { describe, expect, it } from 'vitest';
import { shardConcurrency } from '../../../src/delivery/sizing.ts';
import { configText, issuePaths, parse } from '../config/helpers.ts';

describe('shardConcurrency', () => {
  it('splits the concurrency evenly, the remainder to the first shards, at least one each', () => {
    expect(shardConcurrency(4, 1)).toEqual([4]);
    expect(shardConcurrency(5, 2)).toEqual([3, 2]);
    expect(shardConcurrency(2, 4)).toEqual([1, 1, 1, 1]);
  });
});

describe('delivery.parseThreads in the config', () => {
  it('is one by default, read when given, refused out of 1..256 with its path', async () => {
    expect((await parse(configText())).delivery.parseThreads).toBe(1);
    const given = configText((doc) => (doc.delivery = { concurrency: 8, parseThreads: 3 }));
    expect((await parse(given)).delivery.parseThreads).toBe(3);
    for (const parseThreads of [0, 257, 'two']) {
      const text = configText((doc) => (doc.delivery = { parseThreads }));
      expect(await issuePaths(parse(text)), String(parseThreads)).toEqual(['delivery.parseThreads']);
    }
  });
});
