// At most `size` deliveries of a process in flight at once, whatever jobs they belong to: a deliver job
// carries a window of messages and runs them side by side, so BullMQ's job concurrency alone no longer
// bounds memory, parser threads and webhook load (`delivery.concurrency` does, here). A delivery may take
// several slots (a big message takes two: deliver-job.ts). First come, first served: one that waits for
// several slots holds back those asking after it.

/** Gives the slots back: the next waiters get them. Call it once. */
export type Release = () => void;

interface Waiting {
  slots: number;
  start: (release: Release) => void;
}

export class Limiter {
  #taken = 0;
  readonly #waiting: Waiting[] = [];

  constructor(private readonly size: number) {}

  /** Resolves with `slots` slots (at most `size`) once they are free and every earlier asker has started. */
  acquire(slots = 1): Promise<Release> {
    const wanted = Math.min(slots, this.size);
    if (this.#waiting.length === 0 && this.#taken + wanted <= this.size) {
      this.#taken += wanted;
      return Promise.resolve(this.#releaser(wanted));
    }
    return new Promise<Release>((start) => this.#waiting.push({ slots: wanted, start }));
  }

  #releaser(slots: number): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#taken -= slots;
      for (
        let next = this.#waiting[0];
        next && this.#taken + next.slots <= this.size;
        next = this.#waiting[0]
      ) {
        this.#waiting.shift();
        this.#taken += next.slots;
        next.start(this.#releaser(next.slots));
      }
    };
  }
}
