// Jobs waiting in queues this deployment no longer consumes: queues under the prefix used before queues got
// their cluster hash tags (`<prefix>:bull:poll|deliver`), and deliver queues of another shard count
// (`deliver` after moving to shards, `deliver-<i>` after moving back or to fewer shards). No message is lost
// there (its ledger entry stays `queued`, and the poll session's reconcile enqueues it again into the right
// queue after its grace period), but the jobs sit forever and a repeat delivery is possible if an old worker
// still consumes them. 5 counts for each of up to 66 queues: one pipeline (one write, one read) on a single
// Redis, where they cost a start 10-15 ms of CPU as separate commands; one command per key on a Redis
// Cluster, whose pipelines must stay within one slot.
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

/** What makes a job live: the queue's keys counted, each with the command that counts it. */
const COUNTED = [
  ['llen', 'wait'],
  ['llen', 'paused'],
  ['llen', 'active'],
  ['zcard', 'delayed'],
  ['zcard', 'prioritized'],
] as const;

/** Live jobs of each queue (a queue's key prefix plus name). */
async function liveJobs(redis: RedisClient, queues: string[]): Promise<number[]> {
  const keys = queues.flatMap((queue) =>
    COUNTED.map(([command, key]) => ({ command, key: `${queue}:${key}` })),
  );
  let counts: number[];
  if (redis.isCluster) {
    counts = await Promise.all(keys.map(({ command, key }) => redis[command](key)));
  } else {
    const pipeline = redis.pipeline();
    for (const { command, key } of keys) pipeline[command](key);
    counts = ((await pipeline.exec()) ?? []).map(([error, count]) => {
      if (error) throw error;
      return Number(count);
    });
  }
  return queues.map((_, i) => sum(counts.slice(i * COUNTED.length, (i + 1) * COUNTED.length)));
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export async function findOrphanedQueues(
  redis: RedisClient,
  prefix: string,
  shards: number,
): Promise<OrphanedQueue[]> {
  const queues = candidates(prefix, shards).map(({ name, keyPrefix }) => `${keyPrefix}:${name}`);
  const counts = await liveJobs(redis, queues);
  return queues.map((queue, i) => ({ queue, jobs: counts[i] ?? 0 })).filter((q) => q.jobs > 0);
}
