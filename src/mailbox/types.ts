// The settings and collaborators a poll session works with, as narrow ports so the sync algorithm can be
// read (and tested) apart from Redis and BullMQ wiring.

import type { OversizePolicy, StartAt } from '../config/index.ts';
import type { Ledger, LedgerState, RawStore } from '../ledger/index.ts';
import type { DeliverJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface MailboxSettings {
  id: string;
  delete: boolean;
  webhook: string;
  maxMessageBytes: number;
  /** What a message over maxMessageBytes becomes (oversize.ts). */
  oversize: OversizePolicy;
  batchMessages: number;
  batchBytes: number;
  rawTtlMs: number;
  /** Where delivery starts on a mailbox that already holds mail (onboarding.ts). */
  startAt: StartAt;
  /** The provider lists at most about this many messages a session (Gmail), see capped-listing.ts. */
  listingCap?: number | undefined;
  /** Gmail's `recent:` user name: popped mail is listed again, so nothing is retrieved only to pop it. */
  recentMode?: boolean;
}

export interface DeliveryQueuePort {
  /** Adds the job (after `delayMs`) and returns its id. */
  enqueueDelivery(data: DeliverJobData, delayMs?: number): Promise<string>;
  /** States of one mailbox's deliver jobs by id (the mailbox picks the deliver queue shard). */
  deliveryStates(mailbox: string, jobIds: readonly string[]): Promise<Map<string, string>>;
}

/** Tells the receiver about a dead letter (src/delivery/dead-events.ts); never fails the caller. */
export interface DeadLetterPort {
  /** Call right after the ledger recorded the dead letter, with the state markDead returned. */
  announce(mailbox: string, uidl: string, previous: LedgerState | 'absent'): Promise<void>;
}

export interface SessionDeps {
  ledger: Ledger;
  raw: RawStore;
  queue: DeliveryQueuePort;
  deadLetters: DeadLetterPort;
  now(): number;
  logger: Logger;
}

export interface SessionResult {
  listed: number;
  fetched: number;
  fetchedBytes: number;
  deleted: number;
  tooLarge: number;
  /** New messages the start point held back (recorded skipped) this session. */
  skipped: number;
  /** New messages left for a later session by the batch budgets. */
  remaining: number;
  fallbackIdentity: boolean;
  /** RFC 2449 LOGIN-DELAY the server announced, if any. */
  loginDelayMs: number | undefined;
}
