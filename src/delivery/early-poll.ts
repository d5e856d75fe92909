// After a delivery in delete mode, an early poll of its mailbox, so the DELE doesn't wait a whole poll
// interval. Deliveries that land close together share one: asking once per window saves a round trip per
// delivery. A delivery the window held back gets one more ask when the window ends: the poll the first ask
// brought may be under way already, its ledger read before that delivery was recorded.

/** Deliveries within this window share one early poll, which runs this long after the ask. */
export const EARLY_POLL_DELAY_MS = 2_000;

interface Window {
  heldBack: boolean;
  readonly timer: NodeJS.Timeout;
}

export class EarlyPolls {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly request: (mailbox: string, delayMs: number) => Promise<void>,
    /** A trailing ask failed: nothing awaits it, so it is reported here. */
    private readonly onTrailingError: (mailbox: string, error: unknown) => void,
  ) {}

  /** Asks for the mailbox's early poll now, or at the end of the window when one is open. */
  async afterDelivered(mailbox: string): Promise<void> {
    const open = this.#windows.get(mailbox);
    if (open) {
      open.heldBack = true;
      return;
    }
    await this.#ask(mailbox);
  }

  /** Drops the pending trailing asks (the scheduled poll deletes what they would have). */
  close(): void {
    for (const window of this.#windows.values()) clearTimeout(window.timer);
    this.#windows.clear();
  }

  /** Opens a window and asks; a failed ask closes it again, so the next delivery asks at once. */
  async #ask(mailbox: string): Promise<void> {
    const window: Window = {
      heldBack: false,
      timer: setTimeout(() => {
        this.#windows.delete(mailbox);
        if (window.heldBack)
          this.#ask(mailbox).catch((error: unknown) => this.onTrailingError(mailbox, error));
      }, EARLY_POLL_DELAY_MS).unref(),
    };
    this.#windows.set(mailbox, window);
    try {
      await this.request(mailbox, EARLY_POLL_DELAY_MS);
    } catch (error) {
      clearTimeout(window.timer);
      if (this.#windows.get(mailbox) === window) this.#windows.delete(mailbox);
      throw error;
    }
  }
}
