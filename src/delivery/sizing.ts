// How much a deliver worker process runs at once: its concurrency split over the deliver queue shards.

/**
 * Each shard's share of the process's concurrency: an even split, the remainder to the first shards, at
 * least one each. The split (rather than the full concurrency per shard) keeps memory, parser threads and
 * webhook load what `delivery.concurrency` says; more throughput comes from more processes.
 */
export function shardConcurrency(concurrency: number, shards: number): number[] {
  return Array.from({ length: shards }, (_, i) =>
    Math.max(1, Math.floor(concurrency / shards) + (i < concurrency % shards ? 1 : 0)),
  );
}
