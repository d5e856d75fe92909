// The queues, job shapes and the options that carry the promise: deliver jobs are never removed when they
// fail (a failed job is an undelivered message), retry by our own backoff until the webhook's retry period
// ends, and have ids derived from (mailbox, UIDL) so a message is enqueued once however often it is seen.
// With `delivery.shards` > 1 the deliver queue is split in shards, each mailbox always in the same one, so
// a Redis Cluster spreads delivery work over its masters (layout.ts).
import { type ConnectionOptions, type JobState, type JobsOptions, Queue } from 'bullmq';
import type { PayloadTruncation } from '../payload/types.ts';
import type { DeadEvent } from '../webhook/dead-event.ts';
import { webhookIdFor } from './ids.ts';
import { bullPrefix, deliverQueueNames, deliverShardOf, EVENTS_QUEUE, POLL_QUEUE } from './layout.ts';
import { TurnBatch } from './turn-batch.ts';

export interface PollJobData {
  mailbox: string;
  reason: 'schedule' | 'early' | 'manual';
}

/** One message of a deliver job. */
export interface DeliverMessage {
  uidl: string;
  webhookId: string;
  size: number;
  /** Epoch ms of the first enqueue: the webhook's retry period counts from here. */
  queuedAt: number;
  /** ISO time the message was retrieved from the POP3 server. */
  receivedAt: string;
  /** Failed attempts made in earlier jobs (a batch that split this message off for its retry). */
  priorAttempts?: number;
  /** Why the last of those failed (what BullMQ's failedReason says for a job's own attempts). */
  lastError?: string;
  /** The stored bytes are a reduced form of a message over maxMessageSize (its `size` is theirs). */
  truncated?: PayloadTruncation;
  /**
   * Routes chose the job's webhook: `single`, the message's only target (webhook-id: the message's);
   * `fan-out`, one of several, whose state the ledger keeps per target (webhook-id: fanOutWebhookId).
   * Absent: the mailbox's routes have not run for this message yet (or it has the `webhook:` shorthand).
   */
  routed?: 'single' | 'fan-out';
}

/**
 * A deliver job carries a window of messages of one mailbox (what one RETR window fetched), so the ~33
 * BullMQ commands of a job are paid once per window. Each message keeps its own state in the ledger; a
 * message that needs a retry leaves the batch as a job of its own (docs/guarantees.md, "Batches").
 */
export interface DeliverJobData {
  mailbox: string;
  webhook: string;
  messages: DeliverMessage[];
}

/** A `message.dead` event on its way to `webhook`; the webhook's retry period counts from `queuedAt`. */
export interface DeadEventJobData {
  webhook: string;
  queuedAt: number;
  event: DeadEvent;
}

/** One message of a job with its job's mailbox and webhook: what one delivery attempt needs. */
export type MessageDelivery = DeliverMessage & Pick<DeliverJobData, 'mailbox' | 'webhook'>;

/**
 * One stored message as a deliver job carries it. `queuedAt` starts the webhook's retry period (the first
 * enqueue, or a replay); the webhook id is a pure function of (mailbox, UIDL), the same on every enqueue.
 */
export function queuedMessage(uidl: string, mailbox: string, size: number, queuedAt: number): DeliverMessage {
  return {
    uidl,
    webhookId: webhookIdFor(mailbox, uidl),
    size,
    queuedAt,
    receivedAt: new Date(queuedAt).toISOString(),
  };
}

/**
 * A job's id: a job of one message has the message's webhook id (so `retry now` and replay find it by
 * that id, and a second add of it is a no-op); a batch has its first message's, with `-b<count>`.
 */
export function deliverJobId(data: DeliverJobData): string {
  const [first] = data.messages;
  if (!first) throw new RangeError('a deliver job carries at least one message');
  return data.messages.length === 1 ? first.webhookId : `${first.webhookId}-b${data.messages.length}`;
}

/**
 * Messages per deliver job at most: enough that BullMQ's cost per job is a small share per message, few
 * enough that a crash mid-batch repeats little and a fleet still spreads one mailbox's work.
 */
export const DELIVER_BATCH_MESSAGES = 50;

/** Far more attempts than any retry period allows: giving up is decided by time, in the deliver worker. */
export const DELIVER_ATTEMPTS = 100_000;
export const WEBHOOK_BACKOFF = 'webhook';
const DEAD_EVENT_JOB = 'message.dead';

const deliverJobOptions = (jobId: string, delayMs: number): JobsOptions => ({
  jobId,
  ...(delayMs > 0 ? { delay: delayMs } : {}),
  attempts: DELIVER_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF },
  removeOnComplete: true,
  removeOnFail: false,
});

/**
 * An event job retries by its webhook's backoff until the retry period ends; one that failed for good is
 * kept a while (for a look with BullMQ tools), then trimmed: it is a notice, the message itself is safe.
 */
const eventJobOptions = (jobId: string): JobsOptions => ({
  jobId,
  attempts: DELIVER_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
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
  readonly events: Queue<DeadEventJobData>;
  readonly #deliveries = new TurnBatch<{ data: DeliverJobData; delayMs: number }>((jobs) =>
    this.#addDeliveries(jobs),
  );

  constructor(connection: ConnectionOptions, prefix: string, options: PophookQueuesOptions = {}) {
    this.poll = new Queue<PollJobData>(POLL_QUEUE, { connection, prefix: bullPrefix(prefix, POLL_QUEUE) });
    this.deliverShards = deliverQueueNames(options.deliverShards ?? 1).map(
      (name) => new Queue<DeliverJobData>(name, { connection, prefix: bullPrefix(prefix, name) }),
    );
    this.events = new Queue<DeadEventJobData>(EVENTS_QUEUE, {
      connection,
      prefix: bullPrefix(prefix, EVENTS_QUEUE),
    });
  }

  /** Adds the event's job; its id is the event's, so announcing one dead letter twice sends it once. */
  async enqueueDeadEvent(data: DeadEventJobData): Promise<void> {
    await this.events.add(DEAD_EVENT_JOB, data, eventJobOptions(data.event.id));
  }

  /** The deliver queue a mailbox's messages go to (and where its jobs are looked up). */
  deliverQueueFor(mailbox: string): Queue<DeliverJobData> {
    return this.deliverShards[deliverShardOf(mailbox, this.deliverShards.length)]!;
  }

  /**
   * Adds the deliver job (after `delayMs`, for a retry split off a batch) and returns its id; a job with the
   * same id that still exists makes this a no-op (BullMQ semantics). Jobs asked for in the same turn go to
   * Redis in one addBulk per queue.
   */
  async enqueueDelivery(data: DeliverJobData, delayMs = 0): Promise<string> {
    const id = deliverJobId(data);
    await this.#deliveries.add({ data, delayMs });
    return id;
  }

  async #addDeliveries(jobs: Array<{ data: DeliverJobData; delayMs: number }>): Promise<void> {
    const byQueue = new Map<Queue<DeliverJobData>, Array<{ data: DeliverJobData; delayMs: number }>>();
    for (const job of jobs) {
      const queue = this.deliverQueueFor(job.data.mailbox);
      const batch = byQueue.get(queue);
      if (batch) batch.push(job);
      else byQueue.set(queue, [job]);
    }
    await Promise.all(
      [...byQueue].map(([queue, batch]) =>
        queue.addBulk(
          batch.map(({ data, delayMs }) => ({
            name: 'deliver',
            data,
            opts: deliverJobOptions(deliverJobId(data), delayMs),
          })),
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
        // Held for half the delay only: an ask is joined to a poll that has not started yet (and so reads
        // the ledger after the ask), never to one under way.
        deduplication: { id: `${reason}-${mailbox}`, ttl: Math.max(1, Math.floor(delayMs / 2)) },
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
    await Promise.allSettled([this.poll, ...this.deliverShards, this.events].map((queue) => queue.close()));
  }
}
