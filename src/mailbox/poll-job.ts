// One poll job from start to end, the part of the poll worker a test wants to check: whether the server
// lets us log in now (LOGIN-DELAY, a refused login's backoff), the session itself, its outcome in the
// mailbox's meta hash (a refusal with its state, text and next login) and in the observer, and the
// follow-up poll when the batch budget left messages for later. `pophook poll --once` runs pollOnce, the
// middle of it.
import type { MailboxConfig } from '../config/index.ts';
import { EARLY_POLL_DELAY_MS } from '../delivery/early-poll.ts';
import type { Ledger, MailboxLock, RawStore } from '../ledger/index.ts';
import type { MailboxTokens } from '../oauth/index.ts';
import type { PollJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OpsObserver } from '../telemetry/observations.ts';
import { isRecentMode } from './capped-listing.ts';
import type { MailboxMetaStore } from './meta.ts';
import { connectMailbox, failureFacts, type PollReport, pollMailbox } from './poll.ts';
import {
  followUpDelayMs,
  type LoginRefusal,
  leftForLater,
  loginRefusal,
  notBeforeAfterRefusal,
  pollGate,
} from './poll-policy.ts';
import { expireNotice } from './state.ts';
import type { DeadLetterPort, DeliveryQueuePort, MailboxSettings } from './types.ts';

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
  pollState: { ledger: Ledger; raw: RawStore; lock: MailboxLock; deadLetters: DeadLetterPort };
  /** Access tokens of mailboxes that name a credential (the fleet cache). */
  tokens?: MailboxTokens;
}

export function mailboxSettings(mailbox: MailboxConfig, rawTtlMs: number): MailboxSettings {
  return {
    id: mailbox.id,
    delete: mailbox.delete,
    webhook: mailbox.webhook,
    maxMessageBytes: mailbox.maxMessageBytes,
    oversize: mailbox.oversize,
    batchMessages: mailbox.batchMessages,
    batchBytes: mailbox.batchBytes,
    rawTtlMs,
    startAt: mailbox.startAt,
    listingCap: mailbox.listingCap,
    recentMode: isRecentMode(mailbox.username),
  };
}

/** What each refusal logs, once per refused poll. */
const REFUSAL_LOG: Readonly<Record<LoginRefusal, string>> = {
  credentials: 'poll: credentials refused, backing off so the account is not locked',
  temporary: 'poll: the server refused the login for now ([SYS/TEMP]), backing off',
  'in-use': 'poll: another client holds the mailbox ([IN-USE]), trying later',
  'login-delay': 'poll: the server wants more time between logins ([LOGIN-DELAY]), trying later',
  blocked: 'poll: the server refuses this mailbox until someone acts ([SYS/PERM]), see its text',
};

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
  let report: PollReport;
  try {
    report = await pollMailbox(pollDeps, mailbox, settings, signal ? { signal } : {});
  } catch (error) {
    const facts = failureFacts(error, mailbox);
    const refusal = loginRefusal(error as { code?: unknown; command?: unknown });
    const recorded = await recordFailure(deps, mailbox, refusal, facts).catch(() => undefined);
    logger.warn(
      { outcome: refusal ?? 'error', code: facts.code, err: (error as Error).message, ...recorded?.log },
      refusal === undefined ? 'poll' : REFUSAL_LOG[refusal],
    );
    throw error;
  }
  if (report.refusal && (report.outcome === 'in-use' || report.outcome === 'login-delay')) {
    const { notBefore, log } = await recordFailure(deps, mailbox, report.outcome, report.refusal);
    logger.info(
      { outcome: report.outcome, durationMs: report.durationMs, ...log },
      REFUSAL_LOG[report.outcome],
    );
    return { ...report, ...(notBefore === undefined ? {} : { notBefore }) };
  }
  await recordPoll(deps, mailbox, report, logger);
  logger.info({ outcome: report.outcome, durationMs: report.durationMs, ...report.result }, 'poll');
  return report;
}

/**
 * A poll that logged in (or found the mailbox locked by another session of the fleet, which records its
 * own outcome) in the meta hash; a server EXPIRE a keep-mode mailbox should know about is warned about
 * when first seen or changed, not at every poll.
 */
async function recordPoll(deps: PollJobDeps, mailbox: MailboxConfig, report: PollReport, logger: Logger) {
  const now = Date.now();
  if (report.outcome !== 'ok') {
    await deps.meta.write(mailbox.id, { lastPollAt: now });
    return;
  }
  const expire = expireNotice(report.expire, mailbox.delete);
  if (expire !== undefined && (await deps.meta.read(mailbox.id)).expire !== expire) {
    logger.warn(
      { expire },
      'the server expires retrieved messages (EXPIRE) although delete: false keeps them: they will not stay',
    );
  }
  await deps.meta.write(mailbox.id, {
    lastPollAt: now,
    lastOutcome: 'ok',
    lastOkAt: now,
    listed: report.result?.listed,
    loginDelayMs: report.result?.loginDelayMs ?? 0,
    expire: expire ?? '',
    // A login that went through ends any backoff (0: no wait); LOGIN-DELAY may set a new one.
    notBefore: report.notBefore ?? 0,
  });
}

/**
 * A failed or refused poll in the meta hash, the streak counted; a refusal also sets when the next login
 * may come (poll-policy.ts). Returns that time and what the log line says about it.
 */
async function recordFailure(
  deps: PollJobDeps,
  mailbox: MailboxConfig,
  refusal: LoginRefusal | undefined,
  facts: { code: string; text?: string },
): Promise<{ notBefore?: number; log: Record<string, unknown> }> {
  const now = Date.now();
  const meta = await deps.meta.recordFailure(mailbox.id, { ...facts, outcome: refusal ?? 'error' }, now);
  if (refusal === undefined) return { log: {} };
  const failures = meta.failures ?? 1;
  const notBefore = notBeforeAfterRefusal(refusal, failures, {
    pollIntervalMs: mailbox.pollIntervalMs,
    now,
    announcedDelayMs: meta.loginDelayMs,
  });
  await deps.meta.write(mailbox.id, { notBefore });
  return { notBefore, log: { failures, nextLoginAt: new Date(notBefore).toISOString() } };
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
    const outcome = loginRefusal(error as { code?: unknown; command?: unknown }) ?? 'error';
    observer.poll({ mailbox: mailbox.id, outcome, durationMs: Date.now() - started });
    throw error;
  });
  observer.poll({
    mailbox: mailbox.id,
    outcome: report.outcome,
    durationMs: report.durationMs,
    ...report.result,
  });
  // Another session of the fleet holds the mailbox: it may have read the ledger before the deliveries that
  // asked for this early poll, so it is asked for again (BullMQ keeps one waiting per mailbox).
  if (report.outcome === 'locked' && job.reason === 'early') {
    await deps.queues.requestPoll(mailbox.id, EARLY_POLL_DELAY_MS, 'early');
  }
  const left = report.result ? leftForLater(report.result, mailbox.listingCap) : 0;
  const followUp = followUpDelayMs(left, report.notBefore, Date.now());
  if (followUp !== undefined) await deps.queues.requestPoll(mailbox.id, followUp, 'early');
  return { outcome: report.outcome };
}
