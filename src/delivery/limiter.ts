// At most `size` deliveries of a process in flight at once, whatever jobs they belong to: a deliver job
// carries a window of messages and runs them side by side, so BullMQ's job concurrency alone no longer
// bounds memory, parser threads and webhook load (`delivery.concurrency` does, here). First come, first
// served.

/** Gives the slot back: the next waiter gets it. Call it once. */
export type Release = () => void;

export class Limiter {
  #running = 0;
  readonly #waiting: Array<(release: Release) => void> = [];

  constructor(private readonly size: number) {}

  /** Resolves with a slot once one is free. */
  acquire(): Promise<Release> {
    if (this.#running < this.size) {
      this.#running += 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve) => this.#waiting.push(resolve));
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next(this.#releaser());
      else this.#running -= 1;
    };
  }
}
