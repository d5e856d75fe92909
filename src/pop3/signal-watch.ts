// One 'abort' listener per signal however many users wait on it. EventTarget compares every listener with
// the new one as it is added, so a listener per waiting command made a batch of n pipelined DELEs on one
// session signal cost n² (20,000: 0.7 s) and warned of a listener leak.

export class SignalWatch {
  readonly #users = new Map<AbortSignal, number>();

  constructor(private readonly onAbort: (signal: AbortSignal) => void) {}

  /** Counts one more user of `signal`; call the returned function when that user is done with it. */
  watch(signal: AbortSignal): () => void {
    const users = this.#users.get(signal) ?? 0;
    if (users === 0) signal.addEventListener('abort', this.#fired, { once: true });
    this.#users.set(signal, users + 1);
    return () => this.#release(signal);
  }

  #release(signal: AbortSignal): void {
    const users = this.#users.get(signal);
    if (users === undefined) return; // it fired already
    if (users > 1) {
      this.#users.set(signal, users - 1);
      return;
    }
    this.#users.delete(signal);
    signal.removeEventListener('abort', this.#fired);
  }

  readonly #fired = (event: Event) => {
    const signal = event.target as AbortSignal;
    this.#users.delete(signal);
    this.onAbort(signal);
  };
}
