// Stable identities derived from (mailbox, UIDL): the webhook-id every retry and redelivery carries, which
// is also the deliver job's id. Deterministic, so even after Redis was flushed a redelivery keeps its id.
import { createHash } from 'node:crypto';

/** `msg_` + 32 hex chars of SHA-256(mailbox NUL uidl): no `:` and never all digits (BullMQ job id rules). */
export function webhookIdFor(mailbox: string, uidl: string): string {
  const digest = createHash('sha256').update(mailbox).update('\0').update(uidl).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

/**
 * The webhook-id of one target of a fan-out message: the message's, `_`, the webhook's id (never `.`: the
 * signature signs `id.timestamp.body`). Stable on every retry of that target, distinct per target, and
 * never a batch's id (those end in `-b<count>`).
 */
export function fanOutWebhookId(messageWebhookId: string, webhook: string): string {
  return `${messageWebhookId}_${webhook}`;
}
