// The messages of one session whose raw bytes are stored, gathered into deliver jobs: a window of up to
// DELIVER_BATCH_MESSAGES becomes one job, its messages marked queued (naming that job) in one script just
// before it is added. The session flushes the last, shorter window before QUIT, so every message it
// retrieved is queued before the server may consider it popped.
import { DELIVER_BATCH_MESSAGES, type DeliverMessage, deliverJobId } from '../queue/jobs.ts';
import type { MailboxSettings, SessionDeps } from './types.ts';

export class DeliveryWindow {
  #messages: DeliverMessage[] = [];

  constructor(
    private readonly deps: SessionDeps,
    private readonly mailbox: MailboxSettings,
  ) {}

  /** Adds a stored message; resolves once it is queued when it filled the window, at once otherwise. */
  async add(message: DeliverMessage): Promise<void> {
    this.#messages.push(message);
    if (this.#messages.length >= DELIVER_BATCH_MESSAGES) await this.flush();
  }

  /** Queues what is gathered (nothing when empty). */
  async flush(): Promise<void> {
    const messages = this.#messages;
    this.#messages = [];
    if (messages.length === 0) return;
    const data = { mailbox: this.mailbox.id, webhook: this.mailbox.webhook, messages };
    const job = deliverJobId(data);
    // The ledger keeps a truncated message's listed size: replay and status judge it by the whole message.
    // Pushed, not mapped: a holey array from TurboFan's inlined map deoptimizes markQueuedMany's loop.
    const sizes: DeliverMessage[] = [];
    for (const m of messages) sizes.push({ ...m, size: m.truncated?.originalSize ?? m.size });
    await this.deps.ledger.markQueuedMany(this.mailbox.id, sizes, { job });
    await this.deps.queue.enqueueDelivery(data);
    this.deps.logger.debug({ messages: messages.length, jobId: job }, 'messages queued');
  }
}
