// Heals `queued` ledger entries whose deliver job is gone: a crash between marking queued and enqueueing,
// a job that BullMQ failed after too many stalls, or a Redis that lost recent writes. A message is carried
// by the job its entry names (a batch) or by a job of its own (id: its webhook id; a retry split off a
// batch). A failed job of its own makes it a dead letter; a failed batch (a message in it kept killing the
// worker) gives each of its messages a job of its own, so only the culprit ends dead; a message with no
// job is enqueued again from the stored raw bytes, or retrieved again when those are gone too. Only
// entries older than a grace period are looked at, so a job being enqueued is left alone.
import type { LedgerEntry } from '../ledger/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import { queuedMessage } from '../queue/jobs.ts';
import type { ListedMessage, Listing } from './listing.ts';
import type { MailboxSettings, SessionDeps } from './types.ts';

export const RECONCILE_GRACE_MS = 60_000;
const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** Returns the messages that must be retrieved again this session. */
export async function reconcileQueued(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  listing: Listing,
  entries: ReadonlyMap<string, LedgerEntry>,
): Promise<ListedMessage[]> {
  const cutoff = deps.now() - RECONCILE_GRACE_MS;
  const stale = listing.messages.filter((m) => {
    const entry = entries.get(m.uidl);
    return entry?.state === 'queued' && entry.since < cutoff;
  });
  if (stale.length === 0) return [];
  // The batches first: while a message's batch is alive its own job needs no look (a backlog of thousands
  // queued costs one lookup per batch, not one per message, on every session).
  const batchIds = new Set(stale.flatMap((m) => entries.get(m.uidl)?.job ?? []));
  const batchStates = await deps.queue.deliveryStates(mailbox.id, [...batchIds]);
  const orphans = stale.filter((m) => {
    const job = entries.get(m.uidl)?.job;
    return !ALIVE.has((job && batchStates.get(job)) || 'unknown');
  });
  if (orphans.length === 0) return [];
  const ownIds = orphans.map((m) => webhookIdFor(mailbox.id, m.uidl));
  const ownStates = await deps.queue.deliveryStates(mailbox.id, ownIds);
  const refetch: ListedMessage[] = [];
  for (const [i, message] of orphans.entries()) {
    const entry = entries.get(message.uidl)!;
    const own = ownStates.get(ownIds[i]!) ?? 'unknown';
    const batch = (entry.job && batchStates.get(entry.job)) || 'unknown';
    if (ALIVE.has(own)) continue;
    if (own === 'failed') {
      const previous = await deps.ledger.markDead(mailbox.id, message.uidl, {
        code: 'DELIVERY_FAILED',
        reason: 'the deliver job failed for good (stalled too often or gave up)',
      });
      await deps.deadLetters.announce(mailbox.id, message.uidl, previous);
      continue;
    }
    const size = await deps.raw.size(mailbox.id, message.uidl);
    // An oversize message is retrieved again too: only the session knows how to reduce it (oversize.ts).
    if (size === null || message.size > mailbox.maxMessageBytes) {
      refetch.push(message);
      continue;
    }
    deps.logger.warn(
      { uidl: message.uidl, jobState: batch === 'failed' ? 'batch failed' : own },
      'queued message had no deliver job: enqueued again',
    );
    const queued = queuedMessage(message.uidl, mailbox.id, size, entry.since);
    await deps.queue.enqueueDelivery({ mailbox: mailbox.id, webhook: mailbox.webhook, messages: [queued] });
  }
  return refetch;
}
