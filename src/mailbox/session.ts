// One poll session of one mailbox: the sync algorithm between the POP3 server and the ledger.
//
// Order matters for the promise (DESIGN.md "The one promise"):
//   1. DELE only UIDLs the ledger proves delivered (delete mode); the start point's skipped ones stay;
//   2. RETR new messages, store the raw bytes in Redis, mark them queued and enqueue, all before QUIT
//      (Gmail marks a message popped when the session ends, DELE or not); a window of stored messages
//      becomes one deliver job (delivery-window.ts);
//   3. QUIT only after every reply arrived and only while the mailbox lock is still ours; a session that
//      ends without +OK to QUIT commits nothing (RFC 1939 §6 UPDATE state), so the ledger keeps
//      `delivered` and the next session deletes again;
//   4. after +OK to QUIT, forget the deleted entries and prune entries the server no longer lists.
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isPop3Error, type Pop3Client } from '../pop3/index.ts';
import { type DeliverMessage, queuedMessage } from '../queue/jobs.ts';
import { pickBatch, retrByteLimit } from './batch.ts';
import { retrieveToPop, stuckInListing } from './capped-listing.ts';
import { DeliveryWindow } from './delivery-window.ts';
import { type ListedMessage, readListing } from './listing.ts';
import { applyStartPoint } from './onboarding.ts';
import { handleOversize } from './oversize.ts';
import { loginDelayMs } from './poll-policy.ts';
import { reconcileQueued } from './reconcile.ts';
import type { MailboxSettings, SessionDeps, SessionResult } from './types.ts';

export async function runSession(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  client: Pop3Client,
  signal: AbortSignal,
): Promise<SessionResult> {
  const log = deps.logger;
  const listing = await readListing(client, log, signal);
  const entries = await deps.ledger.entries(mailbox.id);

  const toDelete = mailbox.delete
    ? listing.messages.filter((m) => entries.get(m.uidl)?.state === 'delivered')
    : [];
  if (toDelete.length > 0)
    await client.deleMany(
      toDelete.map((m) => m.msg),
      { signal },
    );

  const unseen = listing.messages.filter((m) => !entries.has(m.uidl));
  const skipped = await applyStartPoint(deps, mailbox, client, unseen, signal);
  const fresh = unseen.filter((m) => !skipped.has(m.uidl));
  const batch = pickBatch(fresh, mailbox);
  await handleOversize(deps, mailbox, client, batch.tooLarge, signal);
  await fetchAndEnqueue(deps, mailbox, client, batch.fetch, signal);

  const requeue = await reconcileQueued(deps, mailbox, listing, entries);
  const oversize = (m: ListedMessage) => m.size > mailbox.maxMessageBytes;
  await handleOversize(deps, mailbox, client, requeue.filter(oversize), signal);
  await fetchAndEnqueue(
    deps,
    mailbox,
    client,
    requeue.filter((m) => !oversize(m)),
    signal,
  );
  const stuck = stuckInListing(listing.messages, entries, mailbox, requeue);
  await retrieveToPop(client, stuck, mailbox.maxMessageBytes, signal);

  // Past this point the server commits; never do it on a lock another session may now hold.
  signal.throwIfAborted();
  await client.quit({ signal });

  const deleted = toDelete.map((m) => m.uidl);
  if (deleted.length > 0) await deps.ledger.forgetDeleted(mailbox.id, deleted);
  await deps.ledger.prune(mailbox.id, entries, new Set(listing.messages.map((m) => m.uidl)));

  return {
    listed: listing.messages.length,
    fetched: batch.fetch.length + requeue.length,
    fetchedBytes: sum(batch.fetch) + sum(requeue),
    deleted: deleted.length,
    tooLarge: batch.tooLarge.length,
    skipped: skipped.size,
    remaining: batch.remaining,
    fallbackIdentity: listing.fallbackIdentity,
    loginDelayMs: loginDelayMs(client.capabilities.loginDelaySeconds),
  };
}

/** Messages whose store (and enqueue) may still be in flight while the next RETR streams in. */
const MAX_PENDING_ENQUEUES = 64;

/**
 * RETRs the messages (pipelined when the server allows) and, for each, stores the bytes; each window of
 * stored messages is marked queued and enqueued as one deliver job. A body must be consumed before the next
 * one is read, but the Redis round trips after it need not hold up the next RETR: they run in the background, bounded, and all of them have
 * settled (any failure thrown) before this returns, so QUIT never commits a session whose messages are
 * not all safely queued.
 */
async function fetchAndEnqueue(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  client: Pop3Client,
  messages: ListedMessage[],
  signal: AbortSignal,
): Promise<void> {
  if (messages.length === 0) return;
  const byMsg = new Map(messages.map((m) => [m.msg, m]));
  const window = new DeliveryWindow(deps, mailbox);
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const track = (work: Promise<void>) => {
    const settled = work.then(
      () => {},
      (error: unknown) => {
        failure ??= { error };
      },
    );
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
  };
  try {
    await client.retrEach(
      messages.map((m) => m.msg),
      async (msg, body) => {
        if (failure) throw failure.error;
        const message = byMsg.get(msg)!;
        const work = store(deps, mailbox, message, body, signal).then((stored) => window.add(stored));
        track(work);
        // Hand the connection to the next RETR once this body is read; the rest continues in the background.
        await Promise.race([finished(body), work]);
        while (pending.size >= MAX_PENDING_ENQUEUES) await Promise.race(pending);
      },
      { maxBytes: retrByteLimit(mailbox.maxMessageBytes), signal },
    );
  } catch (error) {
    await Promise.all(pending);
    // The first failure is the cause; a stream closed because of it is only a symptom.
    throw failure?.error ?? error;
  }
  await Promise.all(pending);
  if (failure) throw failure.error;
  await window.flush();
}

async function store(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  message: ListedMessage,
  body: Readable,
  signal: AbortSignal,
): Promise<DeliverMessage> {
  const receivedAt = deps.now();
  const stored = await deps.raw
    .write(mailbox.id, message.uidl, body, { ttlMs: mailbox.rawTtlMs, signal })
    .catch((error: unknown) => deadLetterIfTooLarge(deps, mailbox, message, error));
  return queuedMessage(message.uidl, mailbox.id, stored.size, receivedAt);
}

/**
 * A message LIST said was small but whose bytes run past maxMessageSize: the transfer was aborted and the
 * connection with it, so the session fails (its DELEs uncommitted, redone next time); recording it as a
 * dead letter keeps the next session from retrieving it again and failing the same way forever.
 */
async function deadLetterIfTooLarge(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  message: ListedMessage,
  error: unknown,
): Promise<never> {
  if (isPop3Error(error, 'POP3_MESSAGE_TOO_LARGE')) {
    const previous = await deps.ledger.markDead(mailbox.id, message.uidl, {
      code: 'MESSAGE_TOO_LARGE',
      size: message.size,
      reason: `message bytes ran past maxMessageSize (${mailbox.maxMessageBytes}) and its margin; LIST said ${message.size}`,
    });
    deps.logger.warn(
      { uidl: message.uidl, listed: message.size },
      'message larger than LIST said: dead letter',
    );
    await deps.deadLetters.announce(mailbox.id, message.uidl, previous);
  }
  throw error;
}

const sum = (messages: ListedMessage[]): number => messages.reduce((total, m) => total + m.size, 0);
