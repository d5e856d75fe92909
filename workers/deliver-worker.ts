// The deliver worker: takes deliver jobs and runs one delivery attempt each, with our backoff between
// attempts (Retry-After honoured) and a parser thread pool (see parseThreads). With
// `delivery.shards` > 1 it runs one BullMQ Worker per deliver queue and splits the process's concurrency
// between them (see shardConcurrency), so a process never runs more deliveries than configured.
import { availableParallelism } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { DeliveryConfig } from '../src/config/index.ts';
import { type DeliverDeps, deliverMessage, describeFailure } from '../src/delivery/deliver.ts';
import { PophookError } from '../src/errors.ts';
import { noObserver, type OpsObserver } from '../src/ops/observations.ts';
import { ParserPool } from '../src/payload/index.ts';
import { type DeliverJobData, WEBHOOK_BACKOFF } from '../src/queue/jobs.ts';
import { bullPrefix } from '../src/queue/layout.ts';
import { retryDelayMs, WebhookSender } from '../src/webhook/index.ts';
import type { Runtime } from './runtime.ts';

/** Deliveries that land close together share one early poll (BullMQ deduplication by mailbox). */
const EARLY_POLL_DELAY_MS = 2_000;

export interface DeliverWorker {
  /** One BullMQ Worker per deliver queue (shard), in shard order. */
  workers: readonly Worker<DeliverJobData>[];
  /** Resolves once the parser threads are up (a fresh process's first deliveries would wait for them). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Each shard's share of the process's concurrency: an even split, the remainder to the first shards, at
 * least one each. The split (rather than the full concurrency per shard) keeps memory, parser threads and
 * webhook load what `delivery.concurrency` says; more throughput comes from more processes.
 */
export function shardConcurrency(concurrency: number, shards: number): number[] {
  return Array.from({ length: shards }, (_, i) =>
    Math.max(1, Math.floor(concurrency / shards) + (i < concurrency % shards ? 1 : 0)),
  );
}

/**
 * Parsing is CPU work: more threads than cores only multiplies warm-up (each thread's JIT starts cold) and
 * memory. Deliveries beyond the thread count wait for a free thread while others are in HTTP or Redis I/O.
 */
export function parseThreads(delivery: Pick<DeliveryConfig, 'concurrency' | 'parseThreads'>, cpus: number) {
  return delivery.parseThreads ?? Math.max(1, Math.min(delivery.concurrency, cpus));
}

export function startDeliverWorker(
  rt: Runtime,
  concurrency: number,
  observer: OpsObserver = noObserver,
): DeliverWorker {
  const { delivery } = rt.config;
  const queues = rt.queues.deliverShards;
  const perShard = shardConcurrency(concurrency, queues.length);
  const parser = new ParserPool({
    size: parseThreads(delivery, availableParallelism()),
    limits: {
      timeoutMs: delivery.parseTimeoutMs,
      maxParts: delivery.maxParts,
      maxDepth: delivery.maxDepth,
      maxHeaderBytes: delivery.maxHeaderBytes,
    },
    payloadOptions: Object.fromEntries(
      Object.values(rt.config.mailboxes).map((m) => [
        m.id,
        { trustedAuthservIds: m.trustedAuthservIds, winmailDat: m.winmailDat },
      ]),
    ),
  });
  const earlyPollAskedAt = new Map<string, number>();
  const sender = new WebhookSender();
  const deps: Omit<DeliverDeps, 'logger'> = {
    ...rt.deliverState,
    parser,
    sender,
    webhooks: rt.config.webhooks,
    afterDelivered: async (mailbox) => {
      if (!rt.config.mailboxes[mailbox]?.delete) return;
      // Redis deduplicates early polls anyway; asking once per window saves a round trip per delivery.
      const now = Date.now();
      if (now - (earlyPollAskedAt.get(mailbox) ?? 0) < EARLY_POLL_DELAY_MS) return;
      earlyPollAskedAt.set(mailbox, now);
      await rt.queues.requestPoll(mailbox, EARLY_POLL_DELAY_MS);
    },
    now: Date.now,
  };

  const process = async (job: Job<DeliverJobData>, _token?: string, signal?: AbortSignal) => {
    const logger = rt.logger.child({ queue: job.queueName, jobId: job.id, mailbox: job.data.mailbox });
    const started = Date.now();
    const attempt = job.attemptsMade + 1;
    const { mailbox, webhook } = job.data;
    try {
      const result = await deliverMessage({ ...deps, logger }, job.data, signal ? { signal } : {});
      logger.info({ uidl: job.data.uidl, ...result, attempt, durationMs: Date.now() - started }, 'delivery');
      observer.delivery({ mailbox, webhook, ...result, durationMs: Date.now() - started });
      return result;
    } catch (error) {
      const outcome = error instanceof UnrecoverableError ? 'dead-letter' : 'retry';
      observer.delivery({
        mailbox,
        webhook,
        outcome,
        ...describeFailure(error),
        durationMs: Date.now() - started,
      });
      logger.warn(
        {
          uidl: job.data.uidl,
          outcome,
          ...describeFailure(error),
          attempt,
          durationMs: Date.now() - started,
        },
        'delivery',
      );
      throw error;
    }
  };

  const startOne = (name: string, slots: number) => {
    const worker = new Worker<DeliverJobData>(name, process, {
      connection: rt.worker,
      prefix: bullPrefix(rt.config.redis.prefix, name),
      concurrency: slots,
      // A crash mid-delivery is retried (a repeat, never a loss); a message that kills the worker again and
      // again ends as a failed job, which the next poll of its mailbox turns into a dead letter.
      maxStalledCount: 5,
      settings: {
        backoffStrategy: (attemptsMade, type, error, job) => {
          const webhook = rt.config.webhooks[(job?.data as DeliverJobData | undefined)?.webhook ?? ''];
          const retryAfterMs = error instanceof PophookError ? error.details.retryAfterMs : undefined;
          return retryDelayMs(attemptsMade, {
            ...(type === WEBHOOK_BACKOFF && webhook
              ? { baseMs: webhook.retryDelayMs, maxMs: webhook.retryMaxDelayMs }
              : {}),
            ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
          });
        },
      },
    });
    worker.on('error', (error) => rt.logger.warn({ err: error.message, queue: name }, 'worker error'));
    return worker;
  };
  const workers = queues.map((queue, i) => startOne(queue.name, perShard[i]!));
  const ready = parser.start();
  // Only the first start is awaited (by the service); a restart's threads that fail to start fail their
  // parses instead, which retries the deliveries.
  ready.catch(() => {});
  return {
    workers,
    ready,
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      await Promise.allSettled([parser.close(), sender.close()]);
    },
  };
}
