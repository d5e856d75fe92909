// How much a deliver worker process runs at once: its concurrency split over the deliver queue shards,
// and its parser thread count.
import type { DeliveryConfig } from '../config/index.ts';

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

/**
 * Parsing is CPU work: more threads than cores only multiplies warm-up (each thread's JIT starts cold) and
 * memory. Deliveries beyond the thread count wait for a free thread while others are in HTTP or Redis I/O.
 */
export function parseThreads(delivery: Pick<DeliveryConfig, 'concurrency' | 'parseThreads'>, cpus: number) {
  return delivery.parseThreads ?? Math.max(1, Math.min(delivery.concurrency, cpus));
}
