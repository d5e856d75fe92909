// One poll job from start to end, the part of the poll worker a test wants to check: whether the server
// lets us log in now (LOGIN-DELAY, a refused login's backoff), the session itself, its outcome in the
// mailbox's meta hash (a refusal with its state, text and next login) and in the observer, and the
// follow-up poll when the batch budget left messages for later. `pophook poll --once` runs pollOnce, the
// middle of it.
import type { MailboxConfig } from '../config/index.ts';
import type { Ledger, MailboxLock, RawStore } from '../ledger/index.ts';
import type { MailboxTokens } from '../oauth/index.ts';
import type { PollJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OpsObserver } from '../telemetry/observations.ts';
import type { MailboxMetaStore } from './meta.ts';
import { connectMailbox, failureFacts, type PollReport, pollMailbox } from './poll.ts';
import {
  followUpDelayMs,
  type LoginRefusal,
  loginRefusal,
  notBeforeAfterRefusal,
  pollGate,
} from './poll-policy.ts';
import { expireNotice } from './state.ts';
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
    const notBefore = await recordFailure(deps, mailbox, refusal, facts).catch(() => undefined);
    logger.warn(
      {
        outcome: refusal ?? 'error',
        code: facts.code,
        err: (error as Error).message,
        ...(notBefore === undefined ? {} : { nextLoginAt: new Date(notBefore).toISOString() }),
      },
      refusal === undefined ? 'poll' : REFUSAL_LOG[refusal],
    );
    throw error;
  }
  if (report.refusal && (report.outcome === 'in-use' || report.outcome === 'login-delay')) {
    const notBefore = (await recordFailure(deps, mailbox, report.outcome, report.refusal))!;
    logger.info(
      {
        outcome: report.outcome,
        durationMs: report.durationMs,
        nextLoginAt: new Date(notBefore).toISOString(),
      },
      REFUSAL_LOG[report.outcome],
    );
    return { ...report, notBefore };
  }
  const now = Date.now();
  const expire = report.outcome === 'ok' ? expireNotice(report.expire, mailbox.delete) : undefined;
  if (expire !== undefined && (await deps.meta.read(mailbox.id)).expire !== expire) {
    logger.warn(
      { expire },
      'the server expires retrieved messages (EXPIRE) although delete: false keeps them: they will not stay',
    );
  }
  await deps.meta.write(mailbox.id, {
    lastPollAt: now,
    // locked: another session of the fleet is in the mailbox now, and records its own outcome.
    ...(report.outcome === 'locked' ? {} : { lastOutcome: report.outcome }),
    ...(report.outcome === 'ok'
      ? {
          lastOkAt: now,
          listed: report.result?.listed,
          loginDelayMs: report.result?.loginDelayMs ?? 0,
          expire: expire ?? '',
          // A login that went through ends any backoff (0: no wait); LOGIN-DELAY may set a new one.
          notBefore: report.notBefore ?? 0,
        }
      : {}),
  });
  logger.info({ outcome: report.outcome, durationMs: report.durationMs, ...report.result }, 'poll');
  return report;
}

/**
 * A failed or refused poll in the meta hash, the streak counted; a refusal also sets when the next login
 * may come (poll-policy.ts), which it returns.
 */
async function recordFailure(
  deps: PollJobDeps,
  mailbox: MailboxConfig,
  refusal: LoginRefusal | undefined,
  facts: { code: string; text?: string },
): Promise<number | undefined> {
  const now = Date.now();
  const meta = await deps.meta.recordFailure(mailbox.id, { ...facts, outcome: refusal ?? 'error' }, now);
  if (refusal === undefined) return undefined;
  const notBefore = notBeforeAfterRefusal(refusal, meta.failures ?? 1, {
    pollIntervalMs: mailbox.pollIntervalMs,
    now,
    announcedDelayMs: meta.loginDelayMs,
  });
  await deps.meta.write(mailbox.id, { notBefore });
  return notBefore;
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
  const followUp = followUpDelayMs(report.result?.remaining ?? 0, report.notBefore, Date.now());
  if (followUp !== undefined) await deps.queues.requestPoll(mailbox.id, followUp, 'early');
  return { outcome: report.outcome };
}
