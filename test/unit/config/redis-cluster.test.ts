// The cluster-related keys: `redis.cluster` (the url is a seed node) and `delivery.shards`, with their
// bounds and the one cross-field rule (a cluster has only database 0).

import { describe, expect, it } from 'vitest';
import { configText, issuePaths, parse } from './helpers.ts';

describe('redis.cluster and delivery.shards', () => {
  it('reads a cluster seed URL and a shard count', async () => {
    const config = await parse(
      configText((doc) => {
        doc.redis = { url: 'rediss://pophook:pw@redis-a.internal:7000', cluster: true };
        doc.delivery = { shards: 8 };
      }),
    );
    expect(config.redis).toEqual({
      url: 'rediss://pophook:pw@redis-a.internal:7000',
      prefix: 'pophook',
      cluster: true,
    });
    expect(config.delivery.shards).toBe(8);
  });

  it('REDIS_URL still replaces the seed URL of a cluster', async () => {
    const text = configText((doc) => (doc.redis = { url: 'redis://file-host:7000', cluster: true }));
    const config = await parse(text, { REDIS_URL: 'redis://env-host:7001' });
    expect(config.redis).toMatchObject({ url: 'redis://env-host:7001', cluster: true });
  });

  it('refuses a database number other than 0 for a cluster, and accepts /0', async () => {
    const withDb = (url: string) => configText((doc) => (doc.redis = { url, cluster: true }));
    expect(await issuePaths(parse(withDb('redis://h:7000/2')))).toEqual(['redis.url']);
    expect((await parse(withDb('redis://h:7000/0'))).redis.cluster).toBe(true);
    // Without cluster a database number is fine.
    const single = configText((doc) => (doc.redis = { url: 'redis://h:6379/2' }));
    expect((await parse(single)).redis.cluster).toBe(false);
  });

  it('bounds shards to 1..64 integers and cluster to booleans', async () => {
    for (const shards of [0, 65, 2.5, 'many']) {
      const text = configText((doc) => (doc.delivery = { shards }));
      expect(await issuePaths(parse(text)), String(shards)).toEqual(['delivery.shards']);
    }
    const text = configText((doc) => (doc.redis = { cluster: 'sometimes' }));
    expect(await issuePaths(parse(text))).toEqual(['redis.cluster']);
  });
});
