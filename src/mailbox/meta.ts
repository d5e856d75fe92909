// Per-mailbox facts that outlive a session, in the mailbox's meta hash: when it was last polled and how it
// went, the last failure (its code, time and how many polls in a row failed), and the earliest time the
// server allows the next login (RFC 2449 LOGIN-DELAY). Read by the poll
// worker, `pophook status`, the watchdog and the metrics.
import { mailboxKeys } from '../ledger/index.ts';
import type { RedisClient } from '../queue/connections.ts';

export interface MailboxMeta {
  lastPollAt?: number;
  lastOutcome?: string;
  lastOkAt?: number;
  lastError?: string;
  lastErrorAt?: number;
  /** Polls in a row that ended with lastError; an ok poll since then makes the whole streak past. */
  failures?: number;
  notBefore?: number;
  listed?: number;
}

const NUMBERS = ['lastPollAt', 'lastOkAt', 'lastErrorAt', 'failures', 'notBefore', 'listed'] as const;

/** Whether the last failure was followed by an ok poll: then it is history, not the mailbox's state. */
export function errorIsPast(meta: MailboxMeta): boolean {
  return meta.lastErrorAt !== undefined && meta.lastOkAt !== undefined && meta.lastOkAt > meta.lastErrorAt;
}

export class MailboxMetaStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async read(mailbox: string): Promise<MailboxMeta> {
    const raw = await this.redis.hgetall(mailboxKeys(this.prefix, mailbox).meta);
    const meta: MailboxMeta = {};
    for (const name of NUMBERS) if (raw[name] !== undefined) meta[name] = Number(raw[name]);
    if (raw.lastOutcome !== undefined) meta.lastOutcome = raw.lastOutcome;
    if (raw.lastError !== undefined) meta.lastError = raw.lastError;
    return meta;
  }

  /**
   * A failed poll: a streak goes on, or starts again at 1 after an ok poll. Read then written: only the
   * session holding the mailbox lock records an outcome, so nothing interleaves.
   */
  async recordFailure(mailbox: string, code: string, at: number): Promise<number> {
    const before = await this.read(mailbox);
    const failures = errorIsPast(before) || before.lastErrorAt === undefined ? 1 : (before.failures ?? 0) + 1;
    await this.write(mailbox, {
      lastPollAt: at,
      lastOutcome: 'error',
      lastError: code,
      lastErrorAt: at,
      failures,
    });
    return failures;
  }

  async write(mailbox: string, meta: MailboxMeta): Promise<void> {
    const fields = Object.entries(meta).filter(([, value]) => value !== undefined);
    if (fields.length === 0) return;
    await this.redis.hset(mailboxKeys(this.prefix, mailbox).meta, Object.fromEntries(fields));
  }
}
