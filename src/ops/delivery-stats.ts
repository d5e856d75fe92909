// Recent delivery outcomes per webhook, kept in Redis so `pophook status` and the dashboard can show a
// success rate and the last error for the whole fleet: a hash of counters and last times, and a list of
// the last RECENT_MAX attempts. Both keys share the hash tag `{webhook:<id>}` so one MULTI covers them
// on Redis Cluster. Written by the deliver worker in batches (STATS_FLUSH_MS), best effort: a
// failed write never fails a delivery, and a crash loses at most the last batch.
import type { RedisClient } from '../queue/connections.ts';
import type { StatusClass } from '../telemetry/observations.ts';

export const RECENT_MAX = 100;
/** The success rate counts the recent attempts of this last stretch of time. */
export const RATE_WINDOW_MS = 60 * 60_000;

export interface DeliveryAttempt {
  at: number;
  ok: boolean;
  class: StatusClass;
  status?: number;
  code?: string;
}

export interface WebhookStatus {
  id: string;
  /** Attempts in the window (at most RECENT_MAX), how many succeeded, and ok/total (null when none). */
  window: { attempts: number; ok: number; rate: number | null; windowMs: number };
  totalOk: number;
  totalFailed: number;
  lastOkAt?: number;
  /** `past`: a delivery succeeded after it (history, not the webhook's state). */
  lastError?: { at: number; code: string; status?: number; past: boolean };
}

export function webhookStatsKeys(prefix: string, webhook: string): { stats: string; recent: string } {
  const base = `${prefix}:{webhook:${webhook}}`;
  return { stats: `${base}:stats`, recent: `${base}:recent` };
}

/**
 * Attempts wait this long in memory, so one MULTI per webhook records all that happened meanwhile: a write
 * per delivery cost about 0.25 ms of the deliver worker's main thread (bench/README.md, profile).
 */
export const STATS_FLUSH_MS = 500;

/** What a webhook's attempts since the last write add up to: counts and last times, and the last few. */
interface PendingStats {
  ok: number;
  lastOkAt: number;
  failed: number;
  lastError: DeliveryAttempt | undefined;
  /** The newest RECENT_MAX attempts (up to twice that before a trim), oldest first. */
  recent: DeliveryAttempt[];
}

export class DeliveryStats {
  // Counts, not every attempt: at a thousand deliveries a second, half a second of attempt objects
  // outlived the young generation and were promoted, garbage for the next full collection.
  #pending = new Map<string, PendingStats>();
  #scheduled: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly flushAfterMs = STATS_FLUSH_MS,
  ) {}

  /** Buffers the attempt; the promise (one per batch) settles when the batch holding it was written. */
  record(webhook: string, attempt: DeliveryAttempt): Promise<void> {
    let batch = this.#pending.get(webhook);
    if (batch === undefined) {
      batch = { ok: 0, lastOkAt: 0, failed: 0, lastError: undefined, recent: [] };
      this.#pending.set(webhook, batch);
    }
    if (attempt.ok) {
      batch.ok += 1;
      batch.lastOkAt = Math.max(batch.lastOkAt, attempt.at);
    } else {
      batch.failed += 1;
      batch.lastError = attempt;
    }
    if (batch.recent.push(attempt) >= 2 * RECENT_MAX) batch.recent.splice(0, RECENT_MAX);
    this.#scheduled ??= new Promise<void>((resolve) => setTimeout(resolve, this.flushAfterMs).unref()).then(
      () => this.flush(),
    );
    return this.#scheduled;
  }

  /** Writes what is buffered now: one MULTI per webhook. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#scheduled = undefined;
    await Promise.all([...pending].map(([webhook, batch]) => this.#write(webhook, batch)));
  }

  async #write(webhook: string, batch: PendingStats): Promise<void> {
    const keys = webhookStatsKeys(this.prefix, webhook);
    const tx = this.redis.multi();
    if (batch.ok > 0) tx.hincrby(keys.stats, 'ok', batch.ok).hset(keys.stats, 'lastOkAt', batch.lastOkAt);
    const { lastError } = batch;
    if (lastError) {
      tx.hincrby(keys.stats, 'failed', batch.failed).hset(keys.stats, {
        lastErrorAt: lastError.at,
        lastErrorCode: lastError.code ?? lastError.class,
        lastErrorStatus: lastError.status ?? '',
      });
    }
    // LPUSH puts its last argument first: the newest attempt heads the list, as one LPUSH each would.
    const recent = batch.recent.slice(-RECENT_MAX).map((a) => JSON.stringify(a));
    tx.lpush(keys.recent, ...recent).ltrim(keys.recent, 0, RECENT_MAX - 1);
    await tx.exec();
  }

  async read(webhook: string, now: number): Promise<WebhookStatus> {
    const keys = webhookStatsKeys(this.prefix, webhook);
    const [stats, recent] = await Promise.all([
      this.redis.hgetall(keys.stats),
      this.redis.lrange(keys.recent, 0, RECENT_MAX - 1),
    ]);
    return summarize(webhook, stats, recent, now);
  }
}

/** Pure: the stored hash and list as a WebhookStatus (unreadable list items are skipped). */
export function summarize(
  webhook: string,
  stats: Record<string, string>,
  recent: readonly string[],
  now: number,
): WebhookStatus {
  let attempts = 0;
  let ok = 0;
  for (const item of recent) {
    const attempt = parseAttempt(item);
    if (!attempt || now - attempt.at > RATE_WINDOW_MS) continue;
    attempts += 1;
    if (attempt.ok) ok += 1;
  }
  const status: WebhookStatus = {
    id: webhook,
    window: { attempts, ok, rate: attempts === 0 ? null : ok / attempts, windowMs: RATE_WINDOW_MS },
    totalOk: Number(stats.ok ?? 0),
    totalFailed: Number(stats.failed ?? 0),
  };
  if (stats.lastOkAt) status.lastOkAt = Number(stats.lastOkAt);
  if (stats.lastErrorAt && stats.lastErrorCode) {
    const at = Number(stats.lastErrorAt);
    status.lastError = { at, code: stats.lastErrorCode, past: (status.lastOkAt ?? 0) > at };
    if (stats.lastErrorStatus) status.lastError.status = Number(stats.lastErrorStatus);
  }
  return status;
}

function parseAttempt(item: string): DeliveryAttempt | undefined {
  try {
    const value = JSON.parse(item) as DeliveryAttempt;
    return typeof value.at === 'number' && typeof value.ok === 'boolean' ? value : undefined;
  } catch {
    return undefined;
  }
}
