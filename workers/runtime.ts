// What every pophook process shares: the loaded config, the root logger, Redis connections by role, and
// the Redis-backed state (ledger, raw store, mailbox lock, queues). Closing it closes them all, once.
import { hostname } from 'node:os';
import type { Config } from '../src/config/index.ts';
import { Ledger, MailboxLock, RawStore } from '../src/ledger/index.ts';
import type { Logger } from '../src/ops/logger.ts';
import { checkRedisPolicy } from '../src/ops/redis-check.ts';
import { createRedis, type Redis, waitReady } from '../src/queue/connections.ts';
import { PophookQueues } from '../src/queue/jobs.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  owner: string;
  /** Fail-fast connection (no offline queue): the poll session and producers. */
  producer: Redis;
  /** Patient connection (retries forever): BullMQ workers and the deliver side's ledger writes. */
  worker: Redis;
  queues: PophookQueues;
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock };
  deliverState: { ledger: Ledger; raw: RawStore };
  close(): Promise<void>;
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const producer = createRedis(config.redis.url, 'producer');
  const worker = createRedis(config.redis.url, 'worker');
  for (const [role, redis] of [
    ['producer', producer],
    ['worker', worker],
  ] as const) {
    redis.on('error', (error) => logger.warn({ role, err: error.message }, 'redis connection error'));
  }
  await Promise.all([waitReady(producer), waitReady(worker)]);
  await checkRedisPolicy(producer, logger);

  const prefix = config.redis.prefix;
  const queues = new PophookQueues(worker, prefix);
  queues.poll.on('error', (error) => logger.warn({ err: error.message, queue: 'poll' }, 'queue error'));
  queues.deliver.on('error', (error) => logger.warn({ err: error.message, queue: 'deliver' }, 'queue error'));
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
