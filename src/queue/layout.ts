// Where pophook's BullMQ queues live in Redis: queue names, key prefixes and the deliver shards.
//
// BullMQ runs multi-key Lua scripts over one queue's keys, so in a Redis Cluster all keys of a queue must
// hash to one slot. Redis hashes only what sits between the first `{` and the next `}` (cluster spec,
// "Hash tags"), so each queue's prefix carries its own tag, `<prefix>:{bull:<queue>}` (BullMQ guide,
// "Redis Cluster": a tagged prefix per queue, so the queues spread over the masters). Keys still start
// with `<prefix>:`, so ACL key patterns like `~pophook:*` keep matching; the tag holds a `:`, which a
// mailbox id never does, so a queue's tag never equals a mailbox's `{<id>}` (src/ledger/keys.ts).
import { createHash } from 'node:crypto';
import { MAX_DELIVER_SHARDS } from '../config/types.ts';

export { MAX_DELIVER_SHARDS };
export const POLL_QUEUE = 'poll';
/** The signed events about messages (`message.dead`), apart from deliveries so they never hold them up. */
export const EVENTS_QUEUE = 'events';
/** The one deliver queue when `delivery.shards` is 1 (the layout before sharding existed). */
export const DELIVER_QUEUE = 'deliver';

/** BullMQ `prefix` option of one queue: its keys are `<prefix>:{bull:<queue>}:<queue>:<suffix>`. */
export function bullPrefix(prefix: string, queue: string): string {
  return `${prefix}:{bull:${queue}}`;
}

/** The prefix every queue shared before queues got their hash tags (one slot for all: no cluster). */
export function legacyBullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/** `deliver` with one shard (backward compatible), `deliver-0` … `deliver-<n-1>` with more. */
export function deliverQueueNames(shards: number): string[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_DELIVER_SHARDS) {
    throw new RangeError(`deliver shards must be an integer from 1 to ${MAX_DELIVER_SHARDS}`);
  }
  return shards === 1 ? [DELIVER_QUEUE] : Array.from({ length: shards }, (_, i) => `${DELIVER_QUEUE}-${i}`);
}

/**
 * The shard of a mailbox: SHA-256 of its id, first 32 bits, modulo the shard count. Stable across
 * processes and restarts (every poller and the CLI agree), and spread evenly over many mailboxes.
 */
export function deliverShardOf(mailbox: string, shards: number): number {
  if (shards <= 1) return 0;
  return createHash('sha256').update(mailbox).digest().readUInt32BE(0) % shards;
}
