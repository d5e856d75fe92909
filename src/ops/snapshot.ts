// One read of the whole picture from Redis, shared by /metrics, /readyz, the dashboard and `pophook
// status`: per mailbox its meta hash, its state (src/mailbox/state.ts: the meta and its OAuth credential's
// status), ledger counts, oldest undelivered message, lock holder and next scheduled poll; per webhook its
// recent delivery stats; the queue depths; Redis memory. Scrapes read it through a short cache so a busy
// Prometheus never hammers Redis.
import type { Config } from '../config/index.ts';
import { type Ledger, type LedgerState, type MailboxLock, NO_ENTRIES } from '../ledger/index.ts';
import type { MailboxMeta, MailboxMetaStore } from '../mailbox/meta.ts';
import { type MailboxState, mailboxState } from '../mailbox/state.ts';
import type { CredentialStatus } from '../oauth/index.ts';
import type { RedisClient } from '../queue/connections.ts';
import { type PophookQueues, pollSchedulerId } from '../queue/jobs.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { DeliveryStats, type WebhookStatus } from './delivery-stats.ts';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueCounts = Record<(typeof QUEUE_STATES)[number], number>;

export interface MailboxStatus extends MailboxMeta {
  id: string;
  /** What every view shows: ok, credentials, blocked… with the code, text and next login behind it. */
  state: MailboxState;
  webhook: string;
  pollIntervalMs: number;
  ledger: Record<LedgerState, number>;
  /** Epoch ms of the oldest `queued` entry: how long the oldest undelivered message has waited. */
  oldestQueuedAt?: number;
  lock?: { owner: string; ttlMs: number };
  /** Epoch ms of the next poll the job scheduler will produce. */
  nextPollAt?: number;
}

export interface Snapshot {
  at: number;
  mailboxes: MailboxStatus[];
  webhooks: WebhookStatus[];
  /** By queue name: `poll`, then `deliver` (or its shards `deliver-0`…). */
  queues: Record<string, QueueCounts>;
  /** maxBytes 0: no maxmemory; systemBytes: the machine's memory as Redis sees it (its limit then). */
  redis: { usedBytes?: number; maxBytes?: number; systemBytes?: number };
}

export interface SnapshotSources {
  config: Config;
  redis: RedisClient;
  queues: PophookQueues;
  ledger: Ledger;
  lock: MailboxLock;
  meta: MailboxMetaStore;
  stats: DeliveryStats;
  /** The OAuth credentials' status (the fleet token cache). */
  tokens: CredentialStates;
}

export interface CredentialStates {
  status(credentialId: string, subject?: string): Promise<CredentialStatus>;
}

/** The mailbox config a state needs: its credential (if any) and the user its token is for. */
export interface MailboxIdentity {
  id: string;
  credential?: string | undefined;
  username: string;
}

/** One mailbox's state now: its meta and, with a credential, that credential's status for its user. */
export async function readMailboxState(
  src: { meta: MailboxMetaStore; tokens: CredentialStates },
  mailbox: MailboxIdentity,
  now: number,
): Promise<{ meta: MailboxMeta; state: MailboxState }> {
  const [meta, credential] = await Promise.all([
    src.meta.read(mailbox.id),
    mailbox.credential === undefined ? undefined : src.tokens.status(mailbox.credential, mailbox.username),
  ]);
  return { meta, state: mailboxState(meta, credential, now) };
}

/** The sources from a runtime's parts: reads go over the fail-fast connection. */
export function snapshotSources(
  rt: Pick<Runtime, 'config' | 'redis' | 'queues' | 'meta' | 'pollState' | 'tokens'>,
): SnapshotSources {
  return {
    config: rt.config,
    redis: rt.redis.failFast,
    queues: rt.queues,
    ledger: rt.pollState.ledger,
    lock: rt.pollState.lock,
    meta: rt.meta,
    stats: new DeliveryStats(rt.redis.failFast, rt.config.redis.prefix),
    tokens: rt.tokens,
  };
}

export async function readSnapshot(src: SnapshotSources, now: number = Date.now()): Promise<Snapshot> {
  const all = [src.queues.poll, ...src.queues.deliverShards];
  const [mailboxes, webhooks, counts, redis] = await Promise.all([
    Promise.all(Object.values(src.config.mailboxes).map((m) => readMailbox(src, m, now))),
    Promise.all(Object.keys(src.config.webhooks).map((id) => src.stats.read(id, now))),
    Promise.all(all.map(queueCounts)),
    readRedisMemory(src.redis),
  ]);
  const queues = Object.fromEntries(all.map((q, i) => [q.name, counts[i]!]));
  return { at: now, mailboxes, webhooks, queues, redis };
}

async function readMailbox(
  src: SnapshotSources,
  mailbox: MailboxIdentity & { webhook: string; pollIntervalMs: number },
  now: number,
): Promise<MailboxStatus> {
  const [{ meta, state }, entries, lock, scheduler] = await Promise.all([
    readMailboxState(src, mailbox, now),
    src.ledger.entries(mailbox.id),
    src.lock.holder(mailbox.id),
    src.queues.poll.getJobScheduler(pollSchedulerId(mailbox.id)),
  ]);
  const ledger: Record<LedgerState, number> = { ...NO_ENTRIES };
  let oldestQueuedAt: number | undefined;
  for (const entry of entries.values()) {
    ledger[entry.state] += 1;
    if (entry.state === 'queued') oldestQueuedAt = Math.min(oldestQueuedAt ?? entry.since, entry.since);
  }
  return {
    id: mailbox.id,
    webhook: mailbox.webhook,
    pollIntervalMs: mailbox.pollIntervalMs,
    ...meta,
    state,
    ledger,
    ...(oldestQueuedAt === undefined ? {} : { oldestQueuedAt }),
    ...(lock ? { lock } : {}),
    ...(typeof scheduler?.next === 'number' ? { nextPollAt: scheduler.next } : {}),
  };
}

/** `waiting` counts prioritized jobs too: both are ready for a worker to take. */
export async function queueCounts(queue: {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}): Promise<QueueCounts> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  return {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
  };
}

/** used_memory, maxmemory and total_system_memory from INFO memory (maxBytes 0: no limit configured). */
export async function readRedisMemory(redis: RedisClient): Promise<Snapshot['redis']> {
  const info = await redis.info('memory');
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
    return match ? Number(match[1]) : undefined;
  };
  const used = field('used_memory');
  const max = field('maxmemory');
  const system = field('total_system_memory');
  return {
    ...(used === undefined ? {} : { usedBytes: used }),
    ...(max === undefined ? {} : { maxBytes: max }),
    ...(system ? { systemBytes: system } : {}),
  };
}

/** The same snapshot for everyone asking within `ttlMs`; a failed read is not kept. */
export function cachedSnapshot(
  read: () => Promise<Snapshot>,
  ttlMs = 5_000,
  clock: () => number = Date.now,
): () => Promise<Snapshot> {
  let current: { at: number; value: Promise<Snapshot> } | undefined;
  return () => {
    if (current && clock() - current.at < ttlMs) return current.value;
    const value = read();
    const entry = { at: clock(), value };
    current = entry;
    value.catch(() => {
      if (current === entry) current = undefined;
    });
    return value;
  };
}
