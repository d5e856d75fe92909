// The queues, job shapes and the options that carry the promise: deliver jobs are never removed when they
// fail (a failed job is an undelivered message), retry by our own backoff until the webhook's retry period
// ends, and have ids derived from (mailbox, UIDL) so a message is enqueued once however often it is seen.
// With `delivery.shards` > 1 the deliver queue is split in shards, each mailbox always in the same one, so
// a Redis Cluster spreads delivery work over its masters (layout.ts).
import { type ConnectionOptions, type JobState, type JobsOptions, Queue } from 'bullmq';
import { webhookIdFor } from './ids.ts';
import { bullPrefix, deliverQueueNames, deliverShardOf, POLL_QUEUE } from './layout.ts';
import { TurnBatch } from './turn-batch.ts';

export interface PollJobData {
  mailbox: string;
  reason: 'schedule' | 'early' | 'manual';
}

export interface DeliverJobData {
  mailbox: string;
  uidl: string;
  webhookId: string;
  webhook: string;
  size: number;
  /** Epoch ms of the first enqueue: the webhook's retry period counts from here. */
  queuedAt: number;
  /** ISO time the message was retrieved from the POP3 server. */
  receivedAt: string;
}

/**
 * The deliver job of one stored message. `queuedAt` starts the webhook's retry period (the first enqueue,
 * or a replay); the webhook id is a pure function of (mailbox, UIDL), the same on every enqueue.
 */
export function deliverJob(
  message: Pick<DeliverJobData, 'mailbox' | 'uidl' | 'webhook' | 'size'>,
  queuedAt: number,
): DeliverJobData {
  return {
    ...message,
    webhookId: webhookIdFor(message.mailbox, message.uidl),
    queuedAt,
    receivedAt: new Date(queuedAt).toISOString(),
  };
}

/** Far more attempts than any retry period allows: giving up is decided by time, in the deliver worker. */
export const DELIVER_ATTEMPTS = 100_000;
export const WEBHOOK_BACKOFF = 'webhook';

const deliverJobOptions = (jobId: string): JobsOptions => ({
  jobId,
  attempts: DELIVER_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF },
  removeOnComplete: true,
  removeOnFail: false,
});

export const pollSchedulerId = (mailbox: string): string => `poll-${mailbox}`;

export interface PophookQueuesOptions {
  /** Number of deliver queues (`delivery.shards`); 1 keeps the single `deliver` queue. */
  deliverShards?: number;
}

export class PophookQueues {
  readonly poll: Queue<PollJobData>;
  /** Every deliver queue, by shard number (one queue, `deliver`, unless sharded). */
  readonly deliverShards: readonly Queue<DeliverJobData>[];
  readonly #deliveries = new TurnBatch<DeliverJobData>((jobs) => this.#addDeliveries(jobs));

  constructor(connection: ConnectionOptions, prefix: string, options: PophookQueuesOptions = {}) {
    this.poll = new Queue<PollJobData>(POLL_QUEUE, { connection, prefix: bullPrefix(prefix, POLL_QUEUE) });
    this.deliverShards = deliverQueueNames(options.deliverShards ?? 1).map(
      (name) => new Queue<DeliverJobData>(name, { connection, prefix: bullPrefix(prefix, name) }),
    );
  }

  /** The deliver queue a mailbox's messages go to (and where its jobs are looked up). */
  deliverQueueFor(mailbox: string): Queue<DeliverJobData> {
    return this.deliverShards[deliverShardOf(mailbox, this.deliverShards.length)]!;
  }

  /**
   * Adds the deliver job; a job with the same id that still exists makes this a no-op (BullMQ semantics).
   * Jobs asked for in the same turn go to Redis in one addBulk per queue.
   */
  enqueueDelivery(data: DeliverJobData): Promise<void> {
    return this.#deliveries.add(data);
  }

  async #addDeliveries(jobs: DeliverJobData[]): Promise<void> {
    const byQueue = new Map<Queue<DeliverJobData>, DeliverJobData[]>();
    for (const data of jobs) {
      const queue = this.deliverQueueFor(data.mailbox);
      const batch = byQueue.get(queue);
      if (batch) batch.push(data);
      else byQueue.set(queue, [data]);
    }
    await Promise.all(
      [...byQueue].map(([queue, batch]) =>
        queue.addBulk(
          batch.map((data) => ({ name: 'deliver', data, opts: deliverJobOptions(data.webhookId) })),
        ),
      ),
    );
  }

  /** States of one mailbox's deliver jobs by id ('unknown' when the job does not exist). */
  async deliveryStates(
    mailbox: string,
    jobIds: readonly string[],
  ): Promise<Map<string, JobState | 'unknown'>> {
    const queue = this.deliverQueueFor(mailbox);
    const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
    return new Map(jobIds.map((id, i) => [id, states[i] ?? 'unknown']));
  }

  /** One poll soon, deduplicated per mailbox, e.g. after deliveries so their DELE doesn't wait a whole interval. */
  async requestPoll(
    mailbox: string,
    delayMs: number,
    reason: PollJobData['reason'] = 'early',
  ): Promise<void> {
    await this.poll.add(
      'poll',
      { mailbox, reason },
      {
        delay: Math.max(0, delayMs),
        deduplication: { id: `${reason}-${mailbox}`, ttl: Math.max(1_000, delayMs) },
        removeOnComplete: true,
        removeOnFail: { count: 100 },
      },
    );
  }

  /** Upserts one job scheduler per mailbox and removes those of mailboxes gone from the config. */
  async syncSchedules(mailboxes: ReadonlyArray<{ id: string; pollIntervalMs: number }>): Promise<void> {
    const wanted = new Set(mailboxes.map((m) => pollSchedulerId(m.id)));
    for (const mailbox of mailboxes) {
      await this.poll.upsertJobScheduler(
        pollSchedulerId(mailbox.id),
        { every: mailbox.pollIntervalMs },
        {
          name: 'poll',
          data: { mailbox: mailbox.id, reason: 'schedule' },
          opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
        },
      );
    }
    for (const scheduler of await this.poll.getJobSchedulers(0, -1)) {
      if (scheduler.key && !wanted.has(scheduler.key)) await this.poll.removeJobScheduler(scheduler.key);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.poll, ...this.deliverShards].map((queue) => queue.close()));
  }
}
