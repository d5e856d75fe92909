// What every pophook process shares: the loaded config, the root logger, Redis connections by role (to one
// Redis or a Redis Cluster), and the Redis-backed state (ledger, raw store, mailbox lock, queues). Closing
// it closes them all, once.
import { hostname } from 'node:os';
import type { Config } from '../src/config/index.ts';
import { Ledger, MailboxLock, RawStore } from '../src/ledger/index.ts';
import type { Logger } from '../src/ops/logger.ts';
import { checkRedisPolicy } from '../src/ops/redis-check.ts';
import { createRedis, type RedisClient, waitReady } from '../src/queue/connections.ts';
import { PophookQueues } from '../src/queue/jobs.ts';
import { findOrphanedQueues } from '../src/queue/orphans.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  owner: string;
  /** Fail-fast connection (no offline queue): the poll session and producers. */
  producer: RedisClient;
  /** Patient connection (retries forever): BullMQ workers and the deliver side's ledger writes. */
  worker: RedisClient;
  queues: PophookQueues;
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock };
  deliverState: { ledger: Ledger; raw: RawStore };
  close(): Promise<void>;
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const producer = createRedis(config.redis, 'producer');
  const worker = createRedis(config.redis, 'worker');
  for (const [role, redis] of [
    ['producer', producer],
    ['worker', worker],
  ] as const) {
    redis.on('error', (error) => logger.warn({ role, err: error.message }, 'redis connection error'));
  }
  await Promise.all([waitReady(producer), waitReady(worker)]);
  await checkRedisPolicy(producer, logger);
  await warnOrphanedQueues(producer, config, logger);

  const prefix = config.redis.prefix;
  const queues = new PophookQueues(worker, prefix, { deliverShards: config.delivery.shards });
  for (const queue of [queues.poll, ...queues.deliverShards]) {
    queue.on('error', (error) => logger.warn({ err: error.message, queue: queue.name }, 'queue error'));
  }
  let closed: Promise<void> | undefined;
  return {
    config,
    logger,
    owner: `${hostname()}:${process.pid}`,
    producer,
    worker,
    queues,
    pollState: {
      ledger: new Ledger(producer, prefix),
      raw: new RawStore(producer, prefix),
      lock: new MailboxLock(producer, prefix),
    },
    deliverState: { ledger: new Ledger(worker, prefix), raw: new RawStore(worker, prefix) },
    close() {
      closed ??= (async () => {
        await queues.close();
        await Promise.allSettled([producer.quit(), worker.quit()]);
      })();
      return closed;
    },
  };
}

/**
 * Jobs left in queues this layout does not consume (the pre-cluster prefix, another shard count): nothing
 * is lost, since the poll session's reconcile enqueues their messages again, but the operator should know.
 */
async function warnOrphanedQueues(redis: RedisClient, config: Config, logger: Logger): Promise<void> {
  const orphans = await findOrphanedQueues(redis, config.redis.prefix, config.delivery.shards).catch(
    (error: Error) => {
      logger.warn({ err: error.message }, 'could not look for jobs in queues no longer used');
      return [];
    },
  );
  for (const { queue, jobs } of orphans) {
    logger.warn(
      { queue, jobs },
      'jobs in a queue this configuration no longer consumes (old key prefix or another delivery.shards): ' +
        'their messages are enqueued again by the next polls; delete the queue keys once no old worker runs',
    );
  }
}
