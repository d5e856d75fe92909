// Per-mailbox facts that outlive a session, in the mailbox's meta hash: when it was last polled and how it
// went, the last failure (its code, the server's text, time and how many polls in a row failed), the
// earliest time of the next login (RFC 2449 LOGIN-DELAY, or a refused login's backoff), the LOGIN-DELAY and
// EXPIRE the server announced. Read by the poll worker, `pophook status`, the watchdog and the metrics.
import { mailboxKeys } from '../ledger/index.ts';
import type { RedisClient } from '../queue/connections.ts';

export interface MailboxMeta {
  lastPollAt?: number;
  lastOutcome?: string;
  lastOkAt?: number;
  lastError?: string;
  /** The server's text with lastError (after -ERR and its response code), bounded and without secrets. */
  lastErrorText?: string;
  lastErrorAt?: number;
  /** Polls in a row that ended with lastError (another code starts again at 1); an ok poll makes it past. */
  failures?: number;
  notBefore?: number;
  listed?: number;
  /** The LOGIN-DELAY the server announced after the last login (RFC 2449 §6.8), in ms. */
  loginDelayMs?: number;
  /**
   * A keep-mode mailbox whose server expires retrieved messages: its EXPIRE argument (RFC 2449 §6.7), e.g.
   * `30` (days) or `0` (at the end of the session). Absent when the server keeps them or in delete mode.
   */
  expire?: string;
  /** Copies of an email recorded as duplicates of another mailbox's accepted copy (dedupe), all time. */
  duplicates?: number;
  /** Messages a drop route took, ever (the ledger's ledgerDrop script counts them). */
  dropped?: number;
}

/** What a failed poll records: its code, the outcome it counts as, the server's text. */
export interface PollFailure {
  code: string;
  outcome: string;
  text?: string | undefined;
}

const NUMBERS = [
  'lastPollAt',
  'lastOkAt',
  'lastErrorAt',
  'failures',
  'notBefore',
  'listed',
  'loginDelayMs',
  'duplicates',
  'dropped',
] as const;
/** Written as '' to clear them in the same HSET; read back as absent. */
const TEXTS = ['lastOutcome', 'lastError', 'lastErrorText', 'expire'] as const;

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
    for (const name of TEXTS) if (raw[name]) meta[name] = raw[name];
    return meta;
  }

  /**
   * A failed poll: a streak of the same code goes on, or starts again at 1 after an ok poll or another
   * code. Read then written: only the session holding the mailbox lock records an outcome, so nothing
   * interleaves. Returns the meta as it now is.
   */
  async recordFailure(mailbox: string, failure: PollFailure, at: number): Promise<MailboxMeta> {
    const before = await this.read(mailbox);
    const goesOn =
      !errorIsPast(before) && before.lastErrorAt !== undefined && before.lastError === failure.code;
    const failures = goesOn ? (before.failures ?? 0) + 1 : 1;
    await this.write(mailbox, {
      lastPollAt: at,
      lastOutcome: failure.outcome,
      lastError: failure.code,
      lastErrorText: failure.text ?? '',
      lastErrorAt: at,
      failures,
    });
    return { ...before, failures };
  }

  async write(mailbox: string, meta: MailboxMeta): Promise<void> {
    const fields = Object.entries(meta).filter(([, value]) => value !== undefined);
    if (fields.length === 0) return;
    await this.redis.hset(mailboxKeys(this.prefix, mailbox).meta, Object.fromEntries(fields));
  }
}
