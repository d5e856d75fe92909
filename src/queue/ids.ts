// Stable identities derived from (mailbox, UIDL): the webhook-id every retry and redelivery carries, which
// is also the deliver job's id. Deterministic, so even after Redis was flushed a redelivery keeps its id.
import { createHash } from 'node:crypto';

/** `msg_` + 32 hex chars of SHA-256(mailbox NUL uidl): no `:` and never all digits (BullMQ job id rules). */
export function webhookIdFor(mailbox: string, uidl: string): string {
  const digest = createHash('sha256').update(mailbox).update('\0').update(uidl).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}
