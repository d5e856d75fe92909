// What every pophook process shares, CLI commands included: the loaded config, the root logger, Redis
// connections by how they fail (to one Redis or a Redis Cluster), and the Redis-backed state (ledger, raw
// store, mailbox lock, mailbox meta, queues). Closing it closes them all, once.
import { hostname } from 'node:os';
import { type Config, maskUrlPassword } from '../config/index.ts';
import { Ledger, MailboxLock, RawStore } from '../ledger/index.ts';
import { MailboxMetaStore } from '../mailbox/meta.ts';
import { TokenCache } from '../oauth/index.ts';
import { createRedis, type RedisClient, waitReady } from '../queue/connections.ts';
import { PophookQueues } from '../queue/jobs.ts';
import { findOrphanedQueues } from '../queue/orphans.ts';
import type { Logger } from '../telemetry/logger.ts';
import { checkRedisPolicy } from './redis-check.ts';

export interface RuntimeRedis {
  /** No offline queue, one retry: a write during an outage fails at once (the poll session, producers). */
  failFast: RedisClient;
  /** Retries forever: BullMQ workers and the deliver side's ledger writes wait an outage out. */
  patient: RedisClient;
}

export interface Runtime {
  config: Config;
  logger: Logger;
  /** Who this process is, for lock holders, `status` and logs: host and pid. */
  owner: string;
  redis: RuntimeRedis;
  /** Producer side (enqueue, early polls, reconcile, replay): on the fail-fast connection. */
  queues: PophookQueues;
  meta: MailboxMetaStore;
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock };
  deliverState: { ledger: Ledger; raw: RawStore };
  /** OAuth 2.0 access tokens of the mailboxes that name a credential, shared by the fleet. */
  tokens: TokenCache;
  close(): Promise<void>;
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const redis: RuntimeRedis = {
    failFast: createRedis(config.redis, 'producer'),
    patient: createRedis(config.redis, 'worker'),
  };
  const url = maskUrlPassword(config.redis.url);
  for (const [role, client] of Object.entries(redis)) {
    client.on('error', (error: Error) =>
      logger.warn({ role, url, err: error.message }, 'redis connection error'),
    );
  }
  await Promise.all([waitReady(redis.failFast), waitReady(redis.patient)]);
  await checkRedisPolicy(redis.failFast, logger);
  await warnOrphanedQueues(redis.failFast, config, logger);

  const prefix = config.redis.prefix;
  const queues = new PophookQueues(redis.failFast, prefix, { deliverShards: config.delivery.shards });
  for (const queue of [queues.poll, ...queues.deliverShards]) {
    queue.on('error', (error) => logger.warn({ err: error.message, queue: queue.name }, 'queue error'));
  }
  let closed: Promise<void> | undefined;
  const owner = `${hostname()}:${process.pid}`;
  const tokens = new TokenCache({
    redis: redis.failFast,
    prefix,
    owner,
    credentials: config.credentials ?? {},
    logger: logger.child({ component: 'oauth' }),
  });
  return {
    config,
    logger,
    owner,
    redis,
    queues,
    meta: new MailboxMetaStore(redis.failFast, prefix),
    pollState: {
      ledger: new Ledger(redis.failFast, prefix),
      raw: new RawStore(redis.failFast, prefix),
      lock: new MailboxLock(redis.failFast, prefix),
    },
    deliverState: { ledger: new Ledger(redis.patient, prefix), raw: new RawStore(redis.patient, prefix) },
    tokens,
    close() {
      closed ??= (async () => {
        await queues.close();
        await tokens.close();
        await Promise.allSettled([redis.failFast.quit(), redis.patient.quit()]);
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
