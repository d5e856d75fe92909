// Per-mailbox facts that outlive a session, in the mailbox's meta hash: when it was last polled and how it
// went, and the earliest time the server allows the next login (RFC 2449 LOGIN-DELAY). Read by the poll
// worker, `pophook status`, the watchdog and the metrics.
import { mailboxKeys } from '../ledger/index.ts';
import type { RedisClient } from '../queue/connections.ts';

export interface MailboxMeta {
  lastPollAt?: number;
  lastOutcome?: string;
  lastOkAt?: number;
  lastError?: string;
  notBefore?: number;
  listed?: number;
}

const NUMBERS = ['lastPollAt', 'lastOkAt', 'notBefore', 'listed'] as const;

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

  async write(mailbox: string, meta: MailboxMeta): Promise<void> {
    const fields = Object.entries(meta).filter(([, value]) => value !== undefined);
    if (fields.length === 0) return;
    await this.redis.hset(mailboxKeys(this.prefix, mailbox).meta, Object.fromEntries(fields));
  }
}
