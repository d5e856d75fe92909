// Queue names, key prefixes and shard choice: the Redis Cluster layout of pophook's BullMQ queues.

import { describe, expect, it } from 'vitest';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import {
  bullPrefix,
  deliverQueueNames,
  deliverShardOf,
  legacyBullPrefix,
  POLL_QUEUE,
} from '../../../src/queue/layout.ts';
import { keySlot } from '../ledger/key-slot.ts';

/** What BullMQ builds from a prefix and a queue name: `<prefix>:<queue>:<suffix>`. */
const bullKey = (prefix: string, queue: string, suffix: string) =>
  `${bullPrefix(prefix, queue)}:${queue}:${suffix}`;

describe('queue layout', () => {
  it('keeps every key of one queue in one slot, and the keys under the deployment prefix', () => {
    for (const queue of [POLL_QUEUE, ...deliverQueueNames(1), ...deliverQueueNames(3)]) {
      const keys = ['wait', 'active', 'delayed', 'failed', 'meta', 'id', 'events', 'job-1'].map((s) =>
        bullKey('pophook', queue, s),
      );
      expect(new Set(keys.map(keySlot)).size, queue).toBe(1);
      for (const key of keys) expect(key.startsWith('pophook:')).toBe(true);
    }
  });

  it('gives different queues different slots, and never a mailbox tag', () => {
    const queues = [POLL_QUEUE, ...deliverQueueNames(1), ...deliverQueueNames(8)];
    const slots = queues.map((q) => keySlot(bullKey('pophook', q, 'wait')));
    expect(new Set(slots).size).toBe(queues.length);
    // A mailbox may be called "poll": its keys carry {poll}, the queue's carry {bull:poll}.
    expect(keySlot(mailboxKeys('pophook', 'poll').ledger)).not.toBe(slots[0]);
  });

  it('names one deliver queue as before, or numbered shards', () => {
    expect(deliverQueueNames(1)).toEqual(['deliver']);
    expect(deliverQueueNames(3)).toEqual(['deliver-0', 'deliver-1', 'deliver-2']);
    expect(() => deliverQueueNames(0)).toThrow(RangeError);
    expect(() => deliverQueueNames(65)).toThrow(RangeError);
    expect(legacyBullPrefix('pophook')).toBe('pophook:bull');
  });

  it('maps a mailbox to a stable shard, spread over all shards', () => {
    expect(deliverShardOf('support', 1)).toBe(0);
    expect(deliverShardOf('support', 7)).toBe(deliverShardOf('support', 7));
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 400; i += 1) counts[deliverShardOf(`mailbox-${i}`, 4)] += 1;
    for (const count of counts) expect(count).toBeGreaterThan(60);
  });
});
