// At most `size` deliveries of a process in flight at once, whatever jobs they belong to: a deliver job
// carries a window of messages and runs them side by side, so BullMQ's job concurrency alone no longer
// bounds memory, parser threads and webhook load (`delivery.concurrency` does, here). First come, first
// served.

export class Limiter {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running += 1;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
