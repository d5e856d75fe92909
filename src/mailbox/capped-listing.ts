// A listing capped by the provider (Gmail: about 250 of the oldest unpopped messages a session, popped =
// retrieved in a session that ended with QUIT) shows a message until it is retrieved. A message the ledger
// already holds but that was never retrieved in a committed session stays listed for good: one stored by a
// session that died before QUIT, a dead letter in delete mode. Enough of them fill the listing and hide all
// newer mail. So such a message is retrieved once more, its bytes discarded, and the QUIT pops it.
import type { LedgerEntry } from '../ledger/index.ts';
import type { Pop3Client } from '../pop3/index.ts';
import { retrByteLimit } from './batch.ts';
import type { ListedMessage } from './listing.ts';

/**
 * Known messages a capped listing would keep showing: every listed one with a ledger entry, except those
 * this session sends DELE (delete mode, delivered), those it retrieves anyway, and dead letters too large
 * to retrieve.
 */
export function stuckInListing(
  listed: readonly ListedMessage[],
  entries: ReadonlyMap<string, LedgerEntry>,
  mailbox: { delete: boolean; listingCap?: number | undefined; recentMode?: boolean },
  retrieving: readonly ListedMessage[],
): ListedMessage[] {
  // In recent mode popping hides nothing: every session would retrieve them all again, for nothing.
  if (mailbox.listingCap === undefined || mailbox.recentMode) return [];
  const busy = new Set(retrieving.map((m) => m.uidl));
  return listed.filter((m) => {
    const entry = entries.get(m.uidl);
    if (entry === undefined || busy.has(m.uidl)) return false;
    if (mailbox.delete && entry.state === 'delivered') return false;
    return !(entry.state === 'dead' && entry.lastError?.code === 'MESSAGE_TOO_LARGE');
  });
}

/** Gmail's recent mode (`recent:` before the user name) lists the last 30 days, popped mail included. */
export function isRecentMode(username: string): boolean {
  return username.startsWith('recent:');
}

/** RETR each and discard the bytes: only so the provider marks them popped at QUIT. */
export async function retrieveToPop(
  client: Pop3Client,
  messages: readonly ListedMessage[],
  maxMessageBytes: number,
  signal: AbortSignal,
): Promise<void> {
  if (messages.length === 0) return;
  // A body the handler leaves unread is read off the wire and dropped by the client.
  await client.retrEach(
    messages.map((m) => m.msg),
    async () => {},
    { maxBytes: retrByteLimit(maxMessageBytes), signal },
  );
}
