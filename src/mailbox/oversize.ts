// What a message over maxMessageSize (judged by its LIST size) becomes, by the mailbox's `oversize` policy:
//   dead-letter        its header block (TOP n 0) stored as its raw bytes, the entry dead: nothing delivered;
//   headers-only       its header block stored and delivered as a payload marked `truncated`;
//   strip-attachments  RETR'd as a stream, reduced on the way to headers and text (strip-attachments.ts),
//                      stored and delivered marked `truncated`, listing the attachments it dropped.
// In every case the whole message stays on the server: it is DELE'd only once the ledger says delivered,
// that is after the receiver accepted the reduced payload (docs/guarantees.md, "Oversize messages").
import type { Readable } from 'node:stream';
import type { DroppedAttachment, PayloadTruncation } from '../payload/types.ts';
import type { Pop3Client } from '../pop3/index.ts';
import { type DeliverMessage, queuedMessage } from '../queue/jobs.ts';
import { DeliveryWindow } from './delivery-window.ts';
import type { ListedMessage } from './listing.ts';
import type { MailboxSettings, SessionDeps } from './types.ts';

// The splitter and the MIME decoding it brings (libmime, iconv-lite: about 850 KB of code) load on first
// use: most processes never strip a message, and the main thread's start-up parses every module it imports.
const splitter = () => import('./strip-attachments.ts');

/** Handles each message over maxMessageSize; the delivered ones are queued before this returns. */
export async function handleOversize(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  client: Pop3Client,
  messages: readonly ListedMessage[],
  signal: AbortSignal,
): Promise<void> {
  if (messages.length === 0) return;
  if (mailbox.oversize === 'dead-letter') {
    for (const message of messages) await deadLetterTooLarge(deps, mailbox, client, message, signal);
    return;
  }
  const window = new DeliveryWindow(deps, mailbox);
  for (const message of messages) {
    const stored = await storeReduced(deps, mailbox, client, message, signal).catch((error: unknown) =>
      deadLetterIfUnsplittable(deps, mailbox, message, error),
    );
    deps.logger.info(
      { uidl: message.uidl, size: message.size, stored: stored.size, oversize: mailbox.oversize },
      'message over maxMessageSize: delivered truncated, the whole message stays on the server until then',
    );
    await window.add(stored);
  }
  await window.flush();
}

async function storeReduced(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  client: Pop3Client,
  message: ListedMessage,
  signal: AbortSignal,
): Promise<DeliverMessage> {
  const receivedAt = deps.now();
  let body: Readable;
  let dropped: DroppedAttachment[] = [];
  if (mailbox.oversize === 'headers-only') {
    body = await client.top(message.msg, 0, { signal });
  } else {
    // No byte cap on the RETR: its bytes only pass through, and what is kept is capped by the reduction.
    const { stripAttachments } = await splitter();
    const stripped = stripAttachments(await client.retr(message.msg, { signal }), {
      keepBytes: mailbox.maxMessageBytes,
    });
    body = stripped.body;
    dropped = stripped.dropped;
  }
  const stored = await deps.raw.write(mailbox.id, message.uidl, body, {
    ttlMs: mailbox.rawTtlMs,
    signal,
  });
  const truncated: PayloadTruncation = {
    reason: mailbox.oversize === 'headers-only' ? 'headers-only' : 'strip-attachments',
    originalSize: message.size,
    limit: mailbox.maxMessageBytes,
    droppedAttachments: dropped,
  };
  return { ...queuedMessage(message.uidl, mailbox.id, stored.size, receivedAt), truncated };
}

/**
 * A message the splitter refuses (hostile structure): its RETR was cut and the session fails with it; recording
 * it as a dead letter keeps the next session from retrieving it again and failing the same way forever.
 */
async function deadLetterIfUnsplittable(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  message: ListedMessage,
  error: unknown,
): Promise<never> {
  if (mailbox.oversize === 'strip-attachments' && (await splitter()).isMimeLimitError(error)) {
    const previous = await deps.ledger.markDead(mailbox.id, message.uidl, {
      code: 'PAYLOAD_LIMIT',
      size: message.size,
      reason: `strip-attachments refused the message: ${(error as Error).message}`,
    });
    deps.logger.warn(
      { uidl: message.uidl, size: message.size },
      'oversize message could not be split: dead letter',
    );
    await deps.deadLetters.announce(mailbox.id, message.uidl, previous);
  }
  throw error;
}

/** Over maxMessageSize: keep it on the server, dead-letter it with its headers (TOP n 0) as the raw bytes. */
async function deadLetterTooLarge(
  deps: SessionDeps,
  mailbox: MailboxSettings,
  client: Pop3Client,
  message: ListedMessage,
  signal: AbortSignal,
): Promise<void> {
  const headers = await client.top(message.msg, 0, { signal });
  await deps.raw.write(mailbox.id, message.uidl, headers, { ttlMs: mailbox.rawTtlMs, signal });
  const previous = await deps.ledger.markDead(mailbox.id, message.uidl, {
    code: 'MESSAGE_TOO_LARGE',
    size: message.size,
    reason: `message is ${message.size} bytes, over maxMessageSize (${mailbox.maxMessageBytes})`,
  });
  deps.logger.warn({ uidl: message.uidl, size: message.size }, 'message over maxMessageSize: dead letter');
  await deps.deadLetters.announce(mailbox.id, message.uidl, previous);
}
