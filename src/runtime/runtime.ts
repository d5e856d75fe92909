// What every pophook process shares, CLI commands included: the loaded config, the root logger, Redis
// connections by how they fail (to one Redis or a Redis Cluster), and the Redis-backed state (ledger, raw
// store, mailbox lock, mailbox meta, queues). Closing it closes them all, once.
import { hostname } from 'node:os';
import { type Config, maskUrlPassword } from '../config/index.ts';
import { DeadLetterEvents } from '../delivery/dead-events.ts';
import { PophookError } from '../errors.ts';
import { Ledger, MailboxLock, RawStore } from '../ledger/index.ts';
import { MailboxMetaStore } from '../mailbox/meta.ts';
import { TokenCache } from '../oauth/index.ts';
import { createRedis, type RedisClient, waitReady } from '../queue/connections.ts';
import { PophookQueues } from '../queue/jobs.ts';
import { findOrphanedQueues } from '../queue/orphans.ts';
import { type Logger, silentLogger } from '../telemetry/logger.ts';
import { checkRedisPolicy } from './redis-check.ts';
import { RedisOutage } from './redis-outage.ts';

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
  /** Whether Redis is reachable: what the watchdog and readiness ask, and what tells the operator. */
  outage: RedisOutage;
  /** Producer side (enqueue, early polls, reconcile, replay): on the fail-fast connection. */
  queues: PophookQueues;
  meta: MailboxMetaStore;
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock; deadLetters: DeadLetterEvents };
  deliverState: { ledger: Ledger; raw: RawStore; deadLetters: DeadLetterEvents };
  /** OAuth 2.0 access tokens of the mailboxes that name a credential, shared by the fleet. */
  tokens: TokenCache;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /**
   * Long-running processes wait for Redis as long as it takes (the outage is logged and reminded);
   * otherwise (one-shot commands) a Redis that can't be reached fails at once with REDIS_UNAVAILABLE.
   */
  waitForRedis?: boolean;
  /** Stops the wait for Redis (a signal during start-up). */
  signal?: AbortSignal;
}

export async function createRuntime(
  config: Config,
  logger: Logger,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const redis: RuntimeRedis = {
    failFast: createRedis(config.redis, 'producer'),
    patient: createRedis(config.redis, 'worker'),
  };
  const url = maskUrlPassword(config.redis.url);
  const outage = new RedisOutage({ url, logger: options.waitForRedis ? logger : silentLogger });
  outage.watch(redis.failFast);
  outage.watch(redis.patient);
  await connect(redis, url, options).catch((error: unknown) => {
    outage.close();
    redis.failFast.disconnect();
    redis.patient.disconnect();
    throw error;
  });
  await checkRedisPolicy(redis.failFast, logger);
  await warnOrphanedQueues(redis.failFast, config, logger);

  const prefix = config.redis.prefix;
  const queues = new PophookQueues(redis.failFast, prefix, { deliverShards: config.delivery.shards });
  for (const queue of [queues.poll, ...queues.deliverShards, queues.events]) {
    queue.on('error', (error) => {
      if (!outage.report(error)) logger.warn({ err: error.message, queue: queue.name }, 'queue error');
    });
  }
  // Each side's dead letters are announced over the same connection its ledger writes use.
  const stores = (connection: RedisClient) => {
    const ledger = new Ledger(connection, prefix);
    const raw = new RawStore(connection, prefix);
    const targetOf = (mailbox: string) => config.mailboxes[mailbox]?.deadLetterWebhook;
    const deadLetters = new DeadLetterEvents({ ledger, raw, queue: queues, targetOf, now: Date.now, logger });
    return { ledger, raw, deadLetters };
  };
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
    outage,
    queues,
    meta: new MailboxMetaStore(redis.failFast, prefix),
    pollState: { ...stores(redis.failFast), lock: new MailboxLock(redis.failFast, prefix) },
    deliverState: stores(redis.patient),
    tokens,
    close() {
      closed ??= (async () => {
        outage.close();
        await queues.close();
        await tokens.close();
        await Promise.allSettled([quit(redis.failFast), quit(redis.patient)]);
      })();
      return closed;
    },
  };
}

async function connect(redis: RuntimeRedis, url: string, options: RuntimeOptions): Promise<void> {
  const wait = options.waitForRedis
    ? { timeoutMs: Infinity, ...(options.signal ? { signal: options.signal } : {}) }
    : { failOnError: true };
  try {
    await Promise.all([waitReady(redis.failFast, wait), waitReady(redis.patient, wait)]);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new PophookError('REDIS_UNAVAILABLE', `${(error as Error).message} (${url})`, {
      cause: error,
    });
  }
}

/** QUIT when connected; a connection still reconnecting (Redis down) is just dropped, QUIT would wait. */
async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'ready') await client.quit();
  else client.disconnect();
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
