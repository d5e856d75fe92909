// The two-stage shutdown of a long-running process (graphile/worker's model): the first stop drains (no
// new work; sessions and deliveries in flight finish), a later force abandons what is still in flight. Each
// part is closed once and finished once, however many signals arrive; a forced stop that still hangs (a
// frozen Redis) is given up on after a grace period, so the process can exit.

export interface StoppablePart {
  /** Stop taking work and wait for work in flight; called once. */
  close(): Promise<void>;
  /** Abandon work in flight so close() can end; called at most once, maybe before or while close() runs. */
  force(): void;
}

export class TwoStageShutdown {
  #stopped: Promise<void> | undefined;
  #forced = false;

  constructor(
    private readonly parts: readonly StoppablePart[],
    /** After every part closed: what the parts shared (ops layer, Redis connections). */
    private readonly finish: () => Promise<void>,
    private readonly forceGraceMs: number,
  ) {}

  get forced(): boolean {
    return this.#forced;
  }

  drain(): Promise<void> {
    this.#stopped ??= (async () => {
      await Promise.allSettled(this.parts.map((part) => part.close()));
      await this.finish();
    })();
    return this.#stopped;
  }

  /**
   * Resolves when the drain ends or, at the latest, forceGraceMs after the force. A force before any drain
   * (Redis down: nothing in flight can finish) reaches each part before its close(), so it closes forced.
   */
  force(): Promise<void> {
    if (!this.#forced) {
      this.#forced = true;
      for (const part of this.parts) part.force();
    }
    const stopped = this.drain();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.forceGraceMs);
      timer.unref();
    });
    return Promise.race([stopped, grace]).finally(() => clearTimeout(timer));
  }
}
