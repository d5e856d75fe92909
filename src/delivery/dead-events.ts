// Announcing dead letters: right after the ledger records one (a delivery given up, a failed job found by
// reconcile, a message over maxMessageSize), its `message.dead` event is built from the ledger entry and the
// message's headers (still in Redis: a dead letter keeps its raw bytes) and queued as a job of the events
// queue, which sends it to the mailbox's deadLetterWebhook with its own retries (dead-event-job.ts).
// Announcing never fails the caller and never touches the message's state: the dead letter is recorded
// either way, and a Redis too broken to queue the event has just failed the ledger write before it.
import type { Ledger, LedgerState, RawStore } from '../ledger/index.ts';
import { webhookIdFor } from '../queue/ids.ts';
import type { DeadEventJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import { deadEvent } from '../webhook/dead-event.ts';
import { describeDeadLetter } from './dead-letters.ts';

export interface DeadLetterEventsDeps {
  ledger: Pick<Ledger, 'get'>;
  raw: Pick<RawStore, 'head' | 'size'>;
  queue: { enqueueDeadEvent(data: DeadEventJobData): Promise<void> };
  /** The webhook that gets a mailbox's events (mailboxes.<id>.deadLetterWebhook); undefined: none. */
  targetOf(mailbox: string): string | undefined;
  now(): number;
  logger: Logger;
}

export class DeadLetterEvents {
  constructor(private readonly deps: DeadLetterEventsDeps) {}

  /**
   * Queues the event of a dead letter just recorded; `previous` is the state markDead returned. A message
   * already dead was announced when it became so (this is a job run again), and delivered is never dead.
   */
  async announce(mailbox: string, uidl: string, previous: LedgerState | 'absent'): Promise<void> {
    if (previous === 'dead' || previous === 'delivered') return;
    try {
      await this.#enqueue(mailbox, uidl);
    } catch (error) {
      this.deps.logger.warn(
        { uidl, err: (error as Error).message },
        'message.dead event not queued: the dead letter itself is recorded',
      );
    }
  }

  async #enqueue(mailbox: string, uidl: string): Promise<void> {
    const webhook = this.deps.targetOf(mailbox);
    const entry = await this.deps.ledger.get(mailbox, uidl);
    if (webhook === undefined || entry?.state !== 'dead') return;
    const letter = { mailbox, uidl, entry, webhookId: webhookIdFor(mailbox, uidl) };
    const details = await describeDeadLetter(this.deps.raw, letter, { headers: true });
    const event = deadEvent({
      mailbox,
      uidl,
      messageWebhookId: letter.webhookId,
      deadAtMs: entry.since,
      error: entry.lastError ?? { code: 'UNKNOWN' },
      attempts: entry.attempts,
      size: details.size,
      subject: details.subject,
      from: details.from,
      headers: details.headers ?? [],
    });
    await this.deps.queue.enqueueDeadEvent({ webhook, queuedAt: this.deps.now(), event });
    this.deps.logger.info({ uidl, eventId: event.id, webhook }, 'message.dead event queued');
  }
}
