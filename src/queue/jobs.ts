// Queue names, job shapes and the options that carry the promise: deliver jobs are never removed when they
// fail (a failed job is an undelivered message), retry by our own backoff until the webhook's retry period
// ends, and have ids derived from (mailbox, UIDL) so a message is enqueued once however often it is seen.
import { type ConnectionOptions, type JobState, type JobsOptions, Queue } from 'bullmq';

export const POLL_QUEUE = 'poll';
export const DELIVER_QUEUE = 'deliver';

/** BullMQ key prefix under the configured one; the hash tag keeps each queue's keys on one cluster slot. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

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

export class PophookQueues {
  readonly poll: Queue<PollJobData>;
  readonly deliver: Queue<DeliverJobData>;

  constructor(connection: ConnectionOptions, prefix: string) {
    const options = { connection, prefix: bullPrefix(prefix) };
    this.poll = new Queue<PollJobData>(POLL_QUEUE, options);
    this.deliver = new Queue<DeliverJobData>(DELIVER_QUEUE, options);
  }

  /** Adds the deliver job; a job with the same id that still exists makes this a no-op (BullMQ semantics). */
  async enqueueDelivery(data: DeliverJobData): Promise<void> {
    await this.deliver.add('deliver', data, deliverJobOptions(data.webhookId));
  }

  /** States of deliver jobs by id ('unknown' when the job does not exist), in one round of Lua calls. */
  async deliveryStates(jobIds: readonly string[]): Promise<Map<string, JobState | 'unknown'>> {
    const states = await Promise.all(jobIds.map((id) => this.deliver.getJobState(id)));
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
    await Promise.allSettled([this.poll.close(), this.deliver.close()]);
  }
}
