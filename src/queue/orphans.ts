// Jobs waiting in queues this deployment no longer consumes: queues under the prefix used before queues got
// their cluster hash tags (`<prefix>:bull:poll|deliver`), and deliver queues of another shard count
// (`deliver` after moving to shards, `deliver-<i>` after moving back or to fewer shards). No message is lost
// there (its ledger entry stays `queued`, and the poll session's reconcile enqueues it again into the right
// queue after its grace period), but the jobs sit forever and a repeat delivery is possible if an old worker
// still consumes them. One command per key, so it works on a Redis Cluster too.
import type { RedisClient } from './connections.ts';
import {
  bullPrefix,
  DELIVER_QUEUE,
  deliverQueueNames,
  legacyBullPrefix,
  MAX_DELIVER_SHARDS,
  POLL_QUEUE,
} from './layout.ts';

export interface OrphanedQueue {
  /** The queue's BullMQ key prefix plus name, e.g. `pophook:bull:deliver`. */
  readonly queue: string;
  /** Jobs waiting, active, delayed or prioritized (failed and completed jobs are not counted). */
  readonly jobs: number;
}

/** Lists (name, prefix) of every queue pophook may have used and does not consume with this layout. */
function candidates(prefix: string, shards: number): Array<{ name: string; keyPrefix: string }> {
  const current = new Set(deliverQueueNames(shards));
  const everyLayout = [DELIVER_QUEUE, ...deliverQueueNames(MAX_DELIVER_SHARDS)];
  return [
    { name: POLL_QUEUE, keyPrefix: legacyBullPrefix(prefix) },
    { name: DELIVER_QUEUE, keyPrefix: legacyBullPrefix(prefix) },
    ...everyLayout
      .filter((name) => !current.has(name))
      .map((name) => ({ name, keyPrefix: bullPrefix(prefix, name) })),
  ];
}

async function liveJobs(redis: RedisClient, base: string): Promise<number> {
  const [wait, paused, active, delayed, prioritized] = await Promise.all([
    redis.llen(`${base}:wait`),
    redis.llen(`${base}:paused`),
    redis.llen(`${base}:active`),
    redis.zcard(`${base}:delayed`),
    redis.zcard(`${base}:prioritized`),
  ]);
  return wait + paused + active + delayed + prioritized;
}

export async function findOrphanedQueues(
  redis: RedisClient,
  prefix: string,
  shards: number,
): Promise<OrphanedQueue[]> {
  const queues = candidates(prefix, shards).map(({ name, keyPrefix }) => `${keyPrefix}:${name}`);
  const counts = await Promise.all(queues.map((queue) => liveJobs(redis, queue)));
  return queues.map((queue, i) => ({ queue, jobs: counts[i] ?? 0 })).filter((q) => q.jobs > 0);
}
