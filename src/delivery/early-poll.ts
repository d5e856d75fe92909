// After a delivery in delete mode, an early poll of its mailbox, so the DELE doesn't wait a whole poll
// interval. Deliveries that land close together share one: Redis deduplicates early polls per mailbox
// anyway, and asking once per window saves a round trip per delivery.

/** Deliveries within this window share one early poll, which runs this long after the first. */
export const EARLY_POLL_DELAY_MS = 2_000;

export class EarlyPolls {
  readonly #askedAt = new Map<string, number>();

  constructor(
    private readonly request: (mailbox: string, delayMs: number) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks for the mailbox's early poll unless this window already did. */
  async afterDelivered(mailbox: string): Promise<void> {
    const now = this.now();
    if (now - (this.#askedAt.get(mailbox) ?? Number.NEGATIVE_INFINITY) < EARLY_POLL_DELAY_MS) return;
    this.#askedAt.set(mailbox, now);
    await this.request(mailbox, EARLY_POLL_DELAY_MS);
  }
}
