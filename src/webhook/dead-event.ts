// The signed `message.dead` event: what a receiver learns when a message becomes a dead letter (a permanent
// 4xx, a retry period run out, an unparseable message, a message over maxMessageSize with the dead-letter
// policy), so the system behind it can tell the sender. Built once, when the dead letter is recorded, from
// the ledger entry and the message's headers; sent later by its own job, signed like a delivery (schema in
// schema/message-dead.schema.json). Its id is stable for one dead letter, so retries carry the same
// `webhook-id`, and a second dead letter of the same message (after a replay) is a new event.
import { createHash } from 'node:crypto';

export const DEAD_EVENT_TYPE = 'message.dead';

/** Why the message is dead, as the ledger kept it (bounded when stored: src/ledger/entry.ts). */
export interface DeadEventError {
  code: string;
  reason: string | null;
  status: number | null;
  statusText: string | null;
  /** The start of the receiver's answer. */
  body: string | null;
}

export interface DeadEvent {
  type: typeof DEAD_EVENT_TYPE;
  /** Equals the `webhook-id` header: `dead_` and 24 hex digits. */
  id: string;
  mailbox: string;
  uidl: string;
  /** The `webhook-id` (and payload `id`) the message's own deliveries carry, for correlation. */
  messageWebhookId: string;
  deadAt: string;
  error: DeadEventError;
  /** Delivery attempts made; 0 when none was (a message over maxMessageSize, an unparseable one). */
  attempts: number;
  /** Bytes of the message as the server listed it (or as stored); null when unknown. */
  size: number | null;
  subject: string | null;
  from: string | null;
  /** The message's root header fields, decoded, in order; empty when its bytes are gone. */
  headers: Array<{ name: string; value: string }>;
}

/** The facts a dead letter event is made of. */
export interface DeadLetterFacts {
  mailbox: string;
  uidl: string;
  messageWebhookId: string;
  /** Epoch ms the ledger recorded the dead letter. */
  deadAtMs: number;
  error: { code: string; reason?: string; status?: number; statusText?: string; body?: string };
  attempts: number | undefined;
  size: number | null;
  subject: string | null;
  from: string | null;
  headers: ReadonlyArray<{ name: string; value: string }>;
}

export function deadEvent(facts: DeadLetterFacts): DeadEvent {
  const { error } = facts;
  return {
    type: DEAD_EVENT_TYPE,
    id: deadEventId(facts.mailbox, facts.uidl, facts.deadAtMs),
    mailbox: facts.mailbox,
    uidl: facts.uidl,
    messageWebhookId: facts.messageWebhookId,
    deadAt: new Date(facts.deadAtMs).toISOString(),
    error: {
      code: error.code,
      reason: error.reason ?? null,
      status: error.status ?? null,
      statusText: error.statusText ?? null,
      body: error.body ?? null,
    },
    attempts: facts.attempts ?? 0,
    size: facts.size,
    subject: facts.subject,
    from: facts.from,
    headers: facts.headers.map(({ name, value }) => ({ name, value })),
  };
}

/** One id per dead letter: the same message dead again later (after a replay) gets another. */
export function deadEventId(mailbox: string, uidl: string, deadAtMs: number): string {
  const digest = createHash('sha256').update(`${mailbox}\0${uidl}\0${deadAtMs}`).digest('hex');
  return `dead_${digest.slice(0, 24)}`;
}
