// Items asked for in the same turn of the event loop, written together: the poll session finishes the
// Redis writes of several pipelined messages in one turn, and one addBulk (a pipeline: one write, one
// round trip) costs about what a single add does. Each caller still gets its own promise, rejected when
// the batch holding its item failed.

export class TurnBatch<T> {
  #items: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#items.length === 0) setImmediate(() => void this.#flush());
      this.#items.push({ item, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#items;
    this.#items = [];
    try {
      await this.write(batch.map((entry) => entry.item));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}
