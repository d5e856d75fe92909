// Jobs left in queues this layout no longer consumes (src/queue/orphans.ts), counted on a real Redis (one
// pipeline) and on a real Redis Cluster (a command per key, the queues' keys spread over the masters).
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../../src/queue/connections.ts';
import { findOrphanedQueues } from '../../../src/queue/orphans.ts';
import { type RedisCluster, startRedisCluster } from '../../helpers/redis-cluster.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

let server: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop()]);
});

/** Two jobs waiting in the untagged deliver queue, one active there, one delayed in shard 3 of four. */
async function leaveJobs(redis: RedisClient, prefix: string): Promise<void> {
  await redis.rpush(`${prefix}:bull:deliver:wait`, 'a', 'b');
  await redis.rpush(`${prefix}:bull:deliver:active`, 'c');
  await redis.zadd(`${prefix}:{bull:deliver-3}:deliver-3:delayed`, 1, 'd');
  // A failed job is history, not live work.
  await redis.zadd(`${prefix}:{bull:deliver-2}:deliver-2:failed`, 1, 'e');
}

describe.each([
  ['a single Redis', () => new Redis(server.url)],
  ['a Redis Cluster', () => new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }])],
])('orphaned queues on %s', (_, connect) => {
  it('counts live jobs in every queue the layout does not consume, and none in those it does', async () => {
    const redis: RedisClient = connect();
    try {
      const prefix = `orphans${randomBytes(4).toString('hex')}`;
      await leaveJobs(redis, prefix);
      expect(await findOrphanedQueues(redis, prefix, 1)).toEqual([
        { queue: `${prefix}:bull:deliver`, jobs: 3 },
        { queue: `${prefix}:{bull:deliver-3}:deliver-3`, jobs: 1 },
      ]);
      // With four shards, deliver-3 is this layout's own queue.
      expect(await findOrphanedQueues(redis, prefix, 4)).toEqual([
        { queue: `${prefix}:bull:deliver`, jobs: 3 },
      ]);
      expect(await findOrphanedQueues(redis, `${prefix}x`, 1)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
