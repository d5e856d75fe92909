// Dead letters: ledger entries in state `dead`, whose messages are still on the POP3 server and whose raw
// bytes are still in Redis. Listing and replay, shared by `pophook dlq` and the dashboard. Replay queues a
// fresh deliver job with a fresh retry period; a message dead for being over maxMessageSize (or whose raw
// bytes are gone) is instead forgotten, so the next poll looks at it again under the current settings.
import type { Config } from '../config/index.ts';
import type { Ledger, LedgerEntry, RawStore } from '../ledger/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import { deliverJob, type PophookQueues } from '../queue/jobs.ts';

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

/** The dead letters named by webhook id (msg_…) or MAILBOX/UIDL, and the ids that matched none. */
export function selectDeadLetters(
  dead: readonly DeadLetter[],
  ids: readonly string[],
): { found: DeadLetter[]; missing: string[] } {
  const found: DeadLetter[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const letter = dead.find((d) => d.webhookId === id || `${d.mailbox}/${d.uidl}` === id);
    if (letter) found.push(letter);
    else missing.push(id);
  }
  return { found, missing };
}

export async function replayDeadLetter(deps: ReplayDeps, letter: DeadLetter): Promise<ReplayResult> {
  const { ledger, raw, queues } = deps;
  const mailbox = deps.mailboxes[letter.mailbox];
  const size = await raw.size(letter.mailbox, letter.uidl);
  if (!mailbox || letter.entry.lastError?.code === 'MESSAGE_TOO_LARGE' || size === null) {
    await ledger.forgetIf(letter.mailbox, letter.uidl, 'dead');
    return 'forgotten';
  }
  // A failed job with this id would make the new add a silent no-op (DESIGN.md "Known traps").
  const previous = await queues.deliverQueueFor(letter.mailbox).getJob(letter.webhookId);
  if (previous) await previous.remove();
  await ledger.markQueued(letter.mailbox, letter.uidl, { size, webhookId: letter.webhookId, replay: true });
  const job = { mailbox: letter.mailbox, uidl: letter.uidl, webhook: mailbox.webhook, size };
  await queues.enqueueDelivery(deliverJob(job, (deps.now ?? Date.now)()));
  return 'queued';
}
