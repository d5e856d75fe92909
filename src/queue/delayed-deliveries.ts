// Deliveries waiting on backoff: the deliver jobs BullMQ holds as `delayed` between two attempts (a first
// attempt is never delayed, so every delayed deliver job is a retry, and a retry is always a job of one
// message, whose id is the message's webhook id). Listed with when they run next, and
// "retry now": the job is promoted to waiting, its retry period unchanged. Shared by `pophook retry` and
// the dashboard. A job is named by its id (the webhook id, msg_…) or by MAILBOX/UIDL.
import type { Job, Queue } from 'bullmq';
import { webhookIdFor } from './ids.ts';
import type { DeliverJobData, PophookQueues } from './jobs.ts';

export interface DelayedDelivery {
  webhookId: string;
  mailbox: string;
  uidl: string;
  webhook: string;
  /** Attempts made so far (each one failed). */
  attempts: number;
  /** Why the last attempt failed, as the deliver worker said it. */
  lastError?: string;
  /** Epoch ms of the next attempt. */
  nextAttemptAt: number;
}

export type RetryNowResult = 'promoted' | 'not-waiting' | 'missing';

// BullMQ packs a delayed job's due time into its score as ms * 0x1000 plus a 12-bit counter
// (commands/includes/getDelayedScore.lua).
const SCORE_COUNTER = 0x1000;

/** The first `limit` delayed deliveries, soonest first, and how many there are in all. */
export async function listDelayedDeliveries(
  queues: PophookQueues,
  limit: number,
): Promise<{ deliveries: DelayedDelivery[]; total: number }> {
  const perShard = await Promise.all(
    queues.deliverShards.map(async (queue) => {
      const [total, jobs] = await Promise.all([
        queue.getDelayedCount(),
        queue.getJobs(['delayed'], 0, limit - 1, true),
      ]);
      const present = (jobs as Array<Job<DeliverJobData> | undefined>).filter((job) => job !== undefined);
      return { total, deliveries: await Promise.all(present.map((job) => describe(queue, job))) };
    }),
  );
  const deliveries = perShard
    .flatMap((shard) => shard.deliveries)
    .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
    .slice(0, limit);
  return { deliveries, total: perShard.reduce((sum, shard) => sum + shard.total, 0) };
}

/** Promotes one delayed delivery so a worker attempts it at once. */
export async function retryNow(queues: PophookQueues, id: string): Promise<RetryNowResult> {
  const job = await findJob(queues, id);
  if (!job) return 'missing';
  if (!(await job.isDelayed())) return 'not-waiting';
  try {
    await job.promote();
    return 'promoted';
  } catch (error) {
    // Its backoff ended (or a worker took it) between the check and the promote.
    if (!(await job.isDelayed())) return 'not-waiting';
    throw error;
  }
}

/** Promotes every delayed delivery; returns how many were waiting. */
export async function retryAllNow(queues: PophookQueues): Promise<number> {
  let promoted = 0;
  for (const queue of queues.deliverShards) {
    promoted += await queue.getDelayedCount();
    await queue.promoteJobs({ count: 1000 });
  }
  return promoted;
}

async function findJob(queues: PophookQueues, id: string): Promise<Job<DeliverJobData> | undefined> {
  const slash = id.indexOf('/');
  if (slash > 0) {
    const mailbox = id.slice(0, slash);
    return queues.deliverQueueFor(mailbox).getJob(webhookIdFor(mailbox, id.slice(slash + 1)));
  }
  for (const queue of queues.deliverShards) {
    const job = await queue.getJob(id);
    if (job) return job;
  }
  return undefined;
}

async function describe(queue: Queue<DeliverJobData>, job: Job<DeliverJobData>): Promise<DelayedDelivery> {
  const client = await queue.client;
  const score = await client.zscore(queue.keys.delayed!, job.id ?? '');
  const { mailbox, webhook, messages } = job.data;
  const message = messages[0]!;
  return {
    webhookId: message.webhookId,
    mailbox,
    uidl: message.uidl,
    webhook,
    attempts: job.attemptsMade + (message.priorAttempts ?? 0),
    ...(job.failedReason || message.lastError ? { lastError: job.failedReason || message.lastError } : {}),
    nextAttemptAt: score === null ? job.timestamp + job.delay : Math.floor(Number(score) / SCORE_COUNTER),
  };
}
