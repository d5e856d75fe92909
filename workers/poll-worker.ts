// The poll worker: takes poll jobs (from the job schedulers or early-poll requests) and runs one session
// per job through the mailbox module, recording the outcome in the mailbox's meta hash.
import { type Job, Worker } from 'bullmq';
import type { MailboxConfig } from '../src/config/index.ts';
import { MailboxMetaStore } from '../src/mailbox/meta.ts';
import { connectMailbox, type PollReport, pollMailbox } from '../src/mailbox/poll.ts';
import type { MailboxSettings } from '../src/mailbox/types.ts';
import { noObserver, type OpsObserver } from '../src/ops/observations.ts';
import { webhookIdFor } from '../src/queue/ids.ts';
import type { PollJobData } from '../src/queue/jobs.ts';
import { bullPrefix, POLL_QUEUE } from '../src/queue/layout.ts';
import type { Runtime } from './runtime.ts';

/** After a session left messages for later, the next one comes this soon (unless LOGIN-DELAY says more). */
const FOLLOW_UP_DELAY_MS = 1_000;

export function mailboxSettings(rt: Runtime, mailbox: MailboxConfig): MailboxSettings {
  return {
    id: mailbox.id,
    delete: mailbox.delete,
    webhook: mailbox.webhook,
    maxMessageBytes: mailbox.maxMessageBytes,
    batchMessages: mailbox.batchMessages,
    batchBytes: mailbox.batchBytes,
    rawTtlMs: rt.config.delivery.rawTtlMs,
  };
}

/** One poll of one mailbox, in the foreground: what the worker runs per job and `pophook poll --once` runs. */
export async function pollOnce(
  rt: Runtime,
  mailbox: MailboxConfig,
  signal?: AbortSignal,
): Promise<PollReport> {
  const logger = rt.logger.child({ mailbox: mailbox.id, cid: Math.random().toString(36).slice(2, 10) });
  const meta = new MailboxMetaStore(rt.producer, rt.config.redis.prefix);
  const deps = {
    ...rt.pollState,
    queue: rt.queues,
    owner: rt.owner,
    webhookIdFor,
    now: Date.now,
    logger,
    connect: (m: MailboxConfig, s: AbortSignal) => connectMailbox(m, s, logger),
  };
  try {
    const report = await pollMailbox(deps, mailbox, mailboxSettings(rt, mailbox), signal ? { signal } : {});
    await meta.write(mailbox.id, {
      lastPollAt: Date.now(),
      lastOutcome: report.outcome,
      ...(report.outcome === 'ok' ? { lastOkAt: Date.now(), listed: report.result?.listed } : {}),
      ...(report.notBefore === undefined ? {} : { notBefore: report.notBefore }),
    });
    logger.info({ outcome: report.outcome, durationMs: report.durationMs, ...report.result }, 'poll');
    return report;
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    await meta
      .write(mailbox.id, { lastPollAt: Date.now(), lastOutcome: 'error', lastError: code })
      .catch(() => {});
    logger.warn({ outcome: 'error', code, err: (error as Error).message }, 'poll');
    throw error;
  }
}

export function startPollWorker(
  rt: Runtime,
  concurrency: number,
  observer: OpsObserver = noObserver,
): Worker<PollJobData> {
  const meta = new MailboxMetaStore(rt.producer, rt.config.redis.prefix);
  const process = async (job: Job<PollJobData>, _token?: string, signal?: AbortSignal) => {
    const mailbox = rt.config.mailboxes[job.data.mailbox];
    if (!mailbox) return { outcome: 'unknown-mailbox' };
    const { notBefore } = await meta.read(mailbox.id);
    if (notBefore !== undefined && notBefore > Date.now()) {
      // LOGIN-DELAY: scheduled polls just skip; an early poll is moved to when the server allows it.
      if (job.data.reason !== 'schedule') await rt.queues.requestPoll(mailbox.id, notBefore - Date.now());
      observer.poll({ mailbox: mailbox.id, outcome: 'deferred', durationMs: 0 });
      return { outcome: 'deferred' };
    }
    const started = Date.now();
    const report = await pollOnce(rt, mailbox, signal).catch((error: unknown) => {
      observer.poll({ mailbox: mailbox.id, outcome: 'error', durationMs: Date.now() - started });
      throw error;
    });
    observer.poll({
      mailbox: mailbox.id,
      outcome: report.outcome,
      durationMs: report.durationMs,
      ...report.result,
    });
    if ((report.result?.remaining ?? 0) > 0) {
      const wait = Math.max(FOLLOW_UP_DELAY_MS, (report.notBefore ?? 0) - Date.now());
      await rt.queues.requestPoll(mailbox.id, wait, 'early');
    }
    return { outcome: report.outcome };
  };
  const worker = new Worker<PollJobData>(POLL_QUEUE, process, {
    connection: rt.worker,
    prefix: bullPrefix(rt.config.redis.prefix, POLL_QUEUE),
    concurrency,
    // A session holds its own mailbox lock; a stalled poll job is simply run again.
    maxStalledCount: 10,
  });
  worker.on('error', (error) => rt.logger.warn({ err: error.message, queue: 'poll' }, 'worker error'));
  return worker;
}
