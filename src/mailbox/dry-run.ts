// `pophook poll --dry-run`: what the next session of a mailbox would delete, fetch and skip, worked out as
// the session would (ledger, start point, batch budgets) but changing nothing: no ledger or marker write,
// no DELE, no RETR, no enqueue. The mailbox lock is held meanwhile so the picture is not taken while a
// worker's session changes it, and the session ends without QUIT, so the server commits nothing either
// (RFC 1939 §6), not even Gmail's popped marks.
import type { MailboxConfig } from '../config/index.ts';
import type { Pop3Client } from '../pop3/index.ts';
import { pickBatch } from './batch.ts';
import { type ListedMessage, readListing } from './listing.ts';
import { readMessageHeaders } from './message-headers.ts';
import { classifyNew, startPlan } from './onboarding.ts';
import { connectMailbox, type PollDeps } from './poll.ts';
import { mailboxSettings, type PollJobDeps } from './poll-job.ts';
import type { MailboxSettings } from './types.ts';

/** Messages shown by name in each list; the counts cover them all. */
export const DRY_RUN_SAMPLE = 10;

export interface PlannedMessage {
  uidl: string;
  size: number;
  subject?: string;
}

export interface PlannedGroup {
  count: number;
  bytes: number;
  /** The first DRY_RUN_SAMPLE, in server order. */
  sample: PlannedMessage[];
}

export interface DryRunReport {
  mailbox: string;
  outcome: 'ok' | 'locked';
  listed?: number;
  /** Delivered messages the session would DELE (delete mode). */
  delete?: PlannedGroup;
  /** New messages it would RETR and enqueue. */
  fetch?: PlannedGroup;
  /** New messages the start point would hold back (recorded skipped, left on the server). */
  skip?: PlannedGroup;
  /** New messages over maxMessageSize: dead letters with their headers, left on the server. */
  tooLarge?: PlannedGroup;
  /** New messages left for a later session by the batch budgets. */
  remaining?: number;
  /** The start point still to run (`now`, a date), when it has not run yet. */
  startAt?: string;
}

/** A dry run of one mailbox with what a process has (a Runtime): its lock, ledger, tokens and logger. */
export function dryRun(deps: PollJobDeps, mailbox: MailboxConfig): Promise<DryRunReport> {
  const logger = deps.logger.child({ mailbox: mailbox.id, dryRun: true });
  return dryRunMailbox(
    {
      ...deps.pollState,
      owner: deps.owner,
      now: Date.now,
      logger,
      connect: (m, signal) => connectMailbox(m, signal, logger, deps.tokens),
    },
    mailbox,
    mailboxSettings(mailbox, deps.config.delivery.rawTtlMs),
  );
}

export async function dryRunMailbox(
  deps: Pick<PollDeps, 'lock' | 'owner' | 'connect' | 'ledger' | 'logger' | 'now'>,
  mailbox: MailboxConfig,
  settings: MailboxSettings,
): Promise<DryRunReport> {
  const lease = await deps.lock.acquire(mailbox.id, deps.owner);
  if (!lease) return { mailbox: mailbox.id, outcome: 'locked' };
  try {
    const client = await deps.connect(mailbox, lease.signal);
    try {
      return {
        mailbox: mailbox.id,
        outcome: 'ok',
        ...(await planSession(deps, settings, client, lease.signal)),
      };
    } finally {
      client.close();
    }
  } finally {
    await lease.release();
  }
}

async function planSession(
  deps: Pick<PollDeps, 'ledger' | 'logger' | 'now'>,
  mailbox: MailboxSettings,
  client: Pop3Client,
  signal: AbortSignal,
): Promise<Omit<DryRunReport, 'mailbox' | 'outcome'>> {
  const listing = await readListing(client, deps.logger, signal);
  const entries = await deps.ledger.entries(mailbox.id);
  const toDelete = mailbox.delete
    ? listing.messages.filter((m) => entries.get(m.uidl)?.state === 'delivered')
    : [];
  const unseen = listing.messages.filter((m) => !entries.has(m.uidl));
  const marker = mailbox.startAt.mode === 'everything' ? undefined : await deps.ledger.onboarding(mailbox.id);
  const plan = startPlan(mailbox.startAt, marker, deps.now());
  const held: ListedMessage[] = [];
  if (plan.hold !== 'none') {
    await classifyNew(client, unseen, plan, async (chunk) => void held.push(...chunk), signal);
  }
  const heldUidls = new Set(held.map((m) => m.uidl));
  const batch = pickBatch(
    unseen.filter((m) => !heldUidls.has(m.uidl)),
    mailbox,
  );
  const group = (messages: ListedMessage[]) => describe(client, messages, signal);
  return {
    listed: listing.messages.length,
    delete: await group(toDelete),
    fetch: await group(batch.fetch),
    skip: await group(held),
    tooLarge: await group(batch.tooLarge),
    remaining: batch.remaining,
    ...(plan.hold === 'none' ? {} : { startAt: plan.startAt }),
  };
}

/** Counts and bytes of a group, and its first few with their subjects (TOP n 0). */
async function describe(
  client: Pop3Client,
  messages: ListedMessage[],
  signal: AbortSignal,
): Promise<PlannedGroup> {
  const shown = messages.slice(0, DRY_RUN_SAMPLE);
  const subjects = new Map<number, string | undefined>();
  await client.topEach(
    shown.map((m) => m.msg),
    0,
    async (msg, body) => void subjects.set(msg, (await readMessageHeaders(body)).subject),
    { signal },
  );
  return {
    count: messages.length,
    bytes: messages.reduce((total, m) => total + m.size, 0),
    sample: shown.map((m) => {
      const subject = subjects.get(m.msg);
      return { uidl: m.uidl, size: m.size, ...(subject === undefined ? {} : { subject }) };
    }),
  };
}
