// Which connection pophook opens for a URL and a role: single Redis or Cluster, offline queue and retries by
// role, and the URL's credentials and TLS handed to every cluster node (ioredis gives them only to the seed).

import { describe, expect, it } from 'vitest';
import { connectionPlan } from '../../../src/queue/connections.ts';

describe('connectionPlan', () => {
  it('single Redis: workers retry forever, producers fail fast', () => {
    const worker = connectionPlan({ url: 'redis://h:6379', cluster: false }, 'worker');
    const producer = connectionPlan({ url: 'redis://h:6379', cluster: false }, 'producer');
    expect(worker).toMatchObject({
      kind: 'single',
      url: 'redis://h:6379',
      options: { maxRetriesPerRequest: null },
    });
    expect(producer).toMatchObject({
      kind: 'single',
      options: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    });
  });

  it('cluster: the URL is the seed; ACL user, password and TLS go to every node', () => {
    const plan = connectionPlan(
      { url: 'rediss://pophook:p%40ss@redis-a.internal:7000', cluster: true },
      'worker',
    );
    if (plan.kind !== 'cluster') throw new Error('expected a cluster plan');
    expect(plan.seeds).toEqual([{ host: 'redis-a.internal', port: 7000 }]);
    expect(plan.options.redisOptions).toMatchObject({
      username: 'pophook',
      password: 'p@ss',
      tls: {},
      maxRetriesPerRequest: null,
    });
    expect(plan.options.enableOfflineQueue).toBe(true);
    expect(typeof plan.options.dnsLookup).toBe('function');
  });

  it('cluster producer: no offline queue at the cluster level; plain redis:// has no TLS', () => {
    const plan = connectionPlan({ url: 'redis://:only-password@10.0.0.1', cluster: true }, 'producer');
    if (plan.kind !== 'cluster') throw new Error('expected a cluster plan');
    expect(plan.seeds).toEqual([{ host: '10.0.0.1', port: 6379 }]);
    expect(plan.options.enableOfflineQueue).toBe(false);
    expect(plan.options.redisOptions).toMatchObject({ password: 'only-password', maxRetriesPerRequest: 1 });
    expect(plan.options.redisOptions).not.toHaveProperty('tls');
    expect(plan.options.redisOptions).not.toHaveProperty('username');
    expect(plan.options.dnsLookup).toBeUndefined();
  });

  it('noReconnect: one try, for one-shot checks', () => {
    const single = connectionPlan({ url: 'redis://h', cluster: false }, 'producer', { noReconnect: true });
    const cluster = connectionPlan({ url: 'redis://h', cluster: true }, 'producer', { noReconnect: true });
    expect(single.kind === 'single' && single.options.retryStrategy?.(1)).toBeNull();
    expect(cluster.kind === 'cluster' && cluster.options.clusterRetryStrategy?.(1)).toBeNull();
  });
});
