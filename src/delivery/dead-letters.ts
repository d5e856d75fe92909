// Dead letters: ledger entries in state `dead`, whose messages are still on the POP3 server and whose raw
// bytes are still in Redis. Listing, what a person needs to decide (describeDeadLetter), and replay,
// shared by `pophook dlq` and the dashboard. Replay queues a fresh deliver job with a fresh retry period;
// a message of which Redis holds less than the whole (over maxMessageSize) or nothing is instead forgotten, so the
// next poll looks at it again under the current settings. Nothing here deletes a message.
import type { Config } from '../config/index.ts';
import type { Ledger, LedgerEntry, RawStore } from '../ledger/index.ts';
import type { RootHeaders } from '../payload/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import { type PophookQueues, queuedMessage } from '../queue/jobs.ts';

export interface DeadLetter {
  mailbox: string;
  uidl: string;
  webhookId: string;
  entry: LedgerEntry;
}

export interface ReplayDeps {
  ledger: Ledger;
  raw: RawStore;
  queues: PophookQueues;
  mailboxes: Config['mailboxes'];
  now?: () => number;
}

export type ReplayResult = 'queued' | 'forgotten';

/** A dead letter with its message's headers, read from the raw bytes still in Redis. */
export interface DeadLetterDetails extends DeadLetter {
  subject: string | null;
  from: string | null;
  /** The Date header, ISO 8601; null when absent or unreadable. */
  date: string | null;
  /** Bytes of the message (as the server listed it), null when unknown. */
  size: number | null;
  /** False when Redis no longer holds the bytes: the message is still on the POP3 server. */
  rawInRedis: boolean;
  /** Every root header field, decoded; only when asked for. */
  headers?: RootHeaders['headers'];
}

/** Enough for the header block of nearly all mail; a longer block is shown up to its last whole line. */
const SUMMARY_HEAD_BYTES = 16 * 1024;
const FULL_HEAD_BYTES = 256 * 1024;

export async function listDeadLetters(
  ledger: Pick<Ledger, 'listDead'>,
  mailboxes: Config['mailboxes'],
): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  for (const mailbox of Object.keys(mailboxes)) {
    for (const { uidl, entry } of await ledger.listDead(mailbox)) {
      all.push({ mailbox, uidl, entry, webhookId: webhookIdFor(mailbox, uidl) });
    }
  }
  return all;
}

/**
 * The dead letters named by webhook id (msg_…, a fan-out target's too) or MAILBOX/UIDL, and the ids that
 * matched none.
 */
export function selectDeadLetters(
  dead: readonly DeadLetter[],
  ids: readonly string[],
): { found: DeadLetter[]; missing: string[] } {
  const found: DeadLetter[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    // A fan-out target's webhook-id names its message too (the receiver only knows that one).
    const named = (d: DeadLetter) =>
      d.webhookId === id ||
      `${d.mailbox}/${d.uidl}` === id ||
      Object.values(d.entry.targets ?? {}).some((t) => t.id === id);
    const letter = dead.find(named);
    if (letter) found.push(letter);
    else missing.push(id);
  }
  return { found, missing };
}

export async function describeDeadLetter(
  raw: Pick<RawStore, 'head' | 'size'>,
  letter: DeadLetter,
  options: { headers?: boolean } = {},
): Promise<DeadLetterDetails> {
  const [stored, head] = await Promise.all([
    raw.size(letter.mailbox, letter.uidl),
    raw.head(letter.mailbox, letter.uidl, options.headers ? FULL_HEAD_BYTES : SUMMARY_HEAD_BYTES),
  ]);
  // Loaded on use: the header decoder pulls in libmime and iconv-lite, which a worker's start-up can skip.
  const { readMessageHeaders } = await import('../payload/root-headers.ts');
  const parsed = readMessageHeaders(head);
  const from = parsed.headers.find((h) => h.name.toLowerCase() === 'from')?.value ?? null;
  return {
    ...letter,
    subject: parsed.subject,
    from,
    date: parsed.date,
    // A message over maxMessageSize has only its headers in Redis: the ledger knows the real size.
    size: letter.entry.size ?? stored,
    rawInRedis: stored !== null,
    ...(options.headers ? { headers: parsed.headers } : {}),
  };
}

export async function replayDeadLetter(deps: ReplayDeps, letter: DeadLetter): Promise<ReplayResult> {
  const { ledger, raw, queues } = deps;
  const mailbox = deps.mailboxes[letter.mailbox];
  const size = await raw.size(letter.mailbox, letter.uidl);
  // Redis holds less than the message (its headers, or the reduced form of a truncated delivery, whose job
  // would lack its truncation record): the next poll looks at it again under the current settings.
  const reduced = size !== null && (letter.entry.size ?? 0) > size;
  if (!mailbox || letter.entry.lastError?.code === 'MESSAGE_TOO_LARGE' || reduced || size === null) {
    await ledger.forgetIf(letter.mailbox, letter.uidl, 'dead');
    return 'forgotten';
  }
  // A failed job with this id would make the new add a silent no-op (DESIGN.md "Known traps"); a fan-out
  // message's dead targets each have a failed job of their own (its webhook-id), to be sent again.
  const targets = Object.values(letter.entry.targets ?? {}).filter((t) => t.state === 'dead');
  for (const id of [letter.webhookId, ...targets.map((t) => t.id)]) {
    const previous = await queues.deliverQueueFor(letter.mailbox).getJob(id);
    if (previous) await previous.remove();
  }
  await ledger.markQueued(letter.mailbox, letter.uidl, { size, webhookId: letter.webhookId, replay: true });
  const message = queuedMessage(letter.uidl, letter.mailbox, size, (deps.now ?? Date.now)());
  await queues.enqueueDelivery({ mailbox: letter.mailbox, webhook: mailbox.webhook, messages: [message] });
  return 'queued';
}
