// One poll job from start to end, the part of the poll worker a test wants to check: whether the server
// lets us log in now (LOGIN-DELAY), the session itself, its outcome in the mailbox's meta hash and in the
// observer, and the follow-up poll when the batch budget left messages for later. `pophook poll --once`
// runs pollOnce, the middle of it.
import type { MailboxConfig } from '../config/index.ts';
import type { Ledger, MailboxLock, RawStore } from '../ledger/index.ts';
import type { MailboxTokens } from '../oauth/index.ts';
import type { PollJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OpsObserver } from '../telemetry/observations.ts';
import type { MailboxMetaStore } from './meta.ts';
import { connectMailbox, type PollReport, pollMailbox } from './poll.ts';
import { followUpDelayMs, leftForLater, notBeforeAfterFailure, pollGate } from './poll-policy.ts';
import type { DeliveryQueuePort, MailboxSettings } from './types.ts';

export interface PollQueuePort extends DeliveryQueuePort {
  requestPoll(mailbox: string, delayMs: number, reason?: PollJobData['reason']): Promise<void>;
}

/** What a poll needs from the process (a Runtime has all of it). */
export interface PollJobDeps {
  config: { mailboxes: Readonly<Record<string, MailboxConfig>>; delivery: { rawTtlMs: number } };
  logger: Logger;
  owner: string;
  meta: MailboxMetaStore;
  queues: PollQueuePort;
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock };
  /** Access tokens of mailboxes that name a credential (the fleet cache). */
  tokens?: MailboxTokens;
}

export function mailboxSettings(mailbox: MailboxConfig, rawTtlMs: number): MailboxSettings {
  return {
    id: mailbox.id,
    delete: mailbox.delete,
    webhook: mailbox.webhook,
    maxMessageBytes: mailbox.maxMessageBytes,
    batchMessages: mailbox.batchMessages,
    batchBytes: mailbox.batchBytes,
    rawTtlMs,
    startAt: mailbox.startAt,
    listingCap: mailbox.listingCap,
  };
}

/** One poll of one mailbox, in the foreground, its outcome recorded in the meta hash and logged. */
export async function pollOnce(
  deps: PollJobDeps,
  mailbox: MailboxConfig,
  signal?: AbortSignal,
): Promise<PollReport> {
  const logger = deps.logger.child({ mailbox: mailbox.id, cid: Math.random().toString(36).slice(2, 10) });
  const pollDeps = {
    ...deps.pollState,
    queue: deps.queues,
    owner: deps.owner,
    now: Date.now,
    logger,
    connect: (m: MailboxConfig, s: AbortSignal) => connectMailbox(m, s, logger, deps.tokens),
  };
  const settings = mailboxSettings(mailbox, deps.config.delivery.rawTtlMs);
  try {
    const report = await pollMailbox(pollDeps, mailbox, settings, signal ? { signal } : {});
    await deps.meta.write(mailbox.id, {
      lastPollAt: Date.now(),
      lastOutcome: report.outcome,
      ...(report.outcome === 'ok' ? { lastOkAt: Date.now(), listed: report.result?.listed } : {}),
      // A login that went through ends any credential backoff (0: no wait); LOGIN-DELAY may set a new one.
      ...(report.outcome === 'ok' || report.notBefore !== undefined
        ? { notBefore: report.notBefore ?? 0 }
        : {}),
    });
    logger.info({ outcome: report.outcome, durationMs: report.durationMs, ...report.result }, 'poll');
    return report;
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    const failures = await deps.meta.recordFailure(mailbox.id, code, Date.now()).catch(() => undefined);
    const notBefore =
      failures === undefined
        ? undefined
        : notBeforeAfterFailure(code, failures, mailbox.pollIntervalMs, Date.now());
    if (notBefore !== undefined) await deps.meta.write(mailbox.id, { notBefore }).catch(() => {});
    logger.warn(
      {
        outcome: 'error',
        code,
        err: (error as Error).message,
        ...(notBefore === undefined ? {} : { failures, nextLoginAt: new Date(notBefore).toISOString() }),
      },
      notBefore === undefined
        ? 'poll'
        : 'poll: credentials refused, backing off so the account is not locked',
    );
    throw error;
  }
}

/** What the poll worker runs for each job. */
export async function runPollJob(
  deps: PollJobDeps,
  observer: OpsObserver,
  job: PollJobData,
  signal?: AbortSignal,
): Promise<{ outcome: string }> {
  const mailbox = deps.config.mailboxes[job.mailbox];
  if (!mailbox) return { outcome: 'unknown-mailbox' };
  const { notBefore } = await deps.meta.read(mailbox.id);
  const gate = pollGate(notBefore, job.reason, Date.now());
  if (!gate.run) {
    if (gate.requeueInMs !== undefined) await deps.queues.requestPoll(mailbox.id, gate.requeueInMs);
    observer.poll({ mailbox: mailbox.id, outcome: 'deferred', durationMs: 0 });
    return { outcome: 'deferred' };
  }
  const started = Date.now();
  const report = await pollOnce(deps, mailbox, signal).catch((error: unknown) => {
    observer.poll({ mailbox: mailbox.id, outcome: 'error', durationMs: Date.now() - started });
    throw error;
  });
  observer.poll({
    mailbox: mailbox.id,
    outcome: report.outcome,
    durationMs: report.durationMs,
    ...report.result,
  });
  const left = report.result ? leftForLater(report.result, mailbox.listingCap) : 0;
  const followUp = followUpDelayMs(left, report.notBefore, Date.now());
  if (followUp !== undefined) await deps.queues.requestPoll(mailbox.id, followUp, 'early');
  return { outcome: report.outcome };
}
