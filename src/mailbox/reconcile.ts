// Heals `queued` ledger entries whose deliver job is gone: a crash between marking queued and enqueueing,
// a job that BullMQ failed after too many stalls, or a Redis that lost recent writes. Failed jobs become
// dead letters; missing jobs are enqueued again from the stored raw bytes, or retrieved again when those
// are gone too. Only entries older than a grace period are looked at, so a job being enqueued is left alone.
import type { LedgerEntry } from '../ledger/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import { deliverJob } from '../queue/jobs.ts';
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
  const ids = new Map(stale.map((m) => [m.uidl, webhookIdFor(mailbox.id, m.uidl)]));
  const states = await deps.queue.deliveryStates(mailbox.id, [...ids.values()]);
  const refetch: ListedMessage[] = [];
  for (const message of stale) {
    const webhookId = ids.get(message.uidl)!;
    const state = states.get(webhookId) ?? 'unknown';
    if (ALIVE.has(state)) continue;
    if (state === 'failed') {
      await deps.ledger.markDead(mailbox.id, message.uidl, {
        code: 'DELIVERY_FAILED',
        reason: 'the deliver job failed for good (stalled too often or gave up)',
      });
      continue;
    }
    const size = await deps.raw.size(mailbox.id, message.uidl);
    if (size === null) {
      refetch.push(message);
      continue;
    }
    deps.logger.warn(
      { uidl: message.uidl, jobState: state },
      'queued message had no deliver job: enqueued again',
    );
    const job = { mailbox: mailbox.id, uidl: message.uidl, webhook: mailbox.webhook, size };
    await deps.queue.enqueueDelivery(deliverJob(job, entries.get(message.uidl)!.since));
  }
  return refetch;
}
