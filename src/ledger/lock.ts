// The per-mailbox session lock: at most one POP3 session per mailbox across the fleet (DESIGN.md "The
// ledger"). `SET key "<token> <owner>" NX PX ttl`; renewal and release compare the value inside a script,
// so only the holder of the random token can extend or drop the lock.
//
// Contract with the poll session: `lease.signal` aborts (reason: PophookError LOCK_LOST) as soon as the
// lease can no longer be trusted, either because a renewal found another value (expired and taken, or
// stolen) or because no renewal succeeded before the TTL ran out (Redis errors or hangs: the lock may have
// expired and another session may be inside the mailbox). The session MUST check the signal before
// anything irreversible (DELE, QUIT) and, when aborted, drop the connection without QUIT, so the server
// rolls back (RFC 1939 §6: only QUIT enters the UPDATE state). Losing the lock is final: renew() returns
// false from then on. release() stops the timers and compare-and-DELs; it does not abort the signal.
import { randomBytes } from 'node:crypto';
import { PophookError } from '../errors.ts';
import { type Logger, silentLogger } from '../telemetry/logger.ts';
import { mailboxKeys } from './keys.ts';
import { type RedisClient, type RunScript, scriptRunner } from './scripts.ts';

export interface MailboxLockOptions {
  /** Lock TTL. Default 60 000. */
  ttlMs?: number;
  /** Auto-renew period. Default ttlMs / 3. */
  renewEveryMs?: number;
  logger?: Logger;
}

export interface Lease {
  readonly token: string;
  /** Aborted when the lock is lost (see the file header). */
  readonly signal: AbortSignal;
  /** Compare-and-PEXPIRE. False once the lock is lost or released. Rejects on a Redis error. */
  renew(): Promise<boolean>;
  /** Compare-and-DEL; idempotent; stops auto-renewal. */
  release(): Promise<void>;
}

export class MailboxLock {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #run: RunScript;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #logger: Logger;

  constructor(redis: RedisClient, prefix: string, options: MailboxLockOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#run = scriptRunner(redis);
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#renewEveryMs = options.renewEveryMs ?? Math.floor(this.#ttlMs / 3);
    this.#logger = options.logger ?? silentLogger;
  }

  /** A lease, or null when someone else holds the lock. */
  async acquire(mailbox: string, owner: string): Promise<Lease | null> {
    const key = mailboxKeys(this.#prefix, mailbox).lock;
    const token = randomBytes(18).toString('base64url');
    const sentAt = Date.now();
    const reply = await this.#redis.set(key, `${token} ${owner}`, 'PX', this.#ttlMs, 'NX');
    if (reply !== 'OK') return null;
    return new RedisLease(this.#run, key, token, owner, sentAt, {
      ttlMs: this.#ttlMs,
      renewEveryMs: this.#renewEveryMs,
      logger: this.#logger.child({ mailbox }),
    });
  }

  async holder(mailbox: string): Promise<{ owner: string; ttlMs: number } | null> {
    const reply = await this.#run('lockHolder', [mailboxKeys(this.#prefix, mailbox).lock], []);
    if (!Array.isArray(reply)) return null;
    const value = String(reply[0]);
    const space = value.indexOf(' ');
    return { owner: space < 0 ? '' : value.slice(space + 1), ttlMs: Number(reply[1]) };
  }
}

class RedisLease implements Lease {
  readonly token: string;
  readonly #controller = new AbortController();
  readonly #value: string;
  readonly #renewTimer: NodeJS.Timeout;
  #expiryTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<boolean> | undefined;
  #released: Promise<void> | undefined;

  constructor(
    private readonly run: RunScript,
    private readonly key: string,
    token: string,
    owner: string,
    acquiredAt: number,
    private readonly options: { ttlMs: number; renewEveryMs: number; logger: Logger },
  ) {
    this.token = token;
    this.#value = `${token} ${owner}`;
    this.#renewTimer = setInterval(() => this.#autoRenew(), options.renewEveryMs);
    this.#renewTimer.unref();
    this.#armExpiry(acquiredAt);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  renew(): Promise<boolean> {
    if (this.#released || this.signal.aborted) return Promise.resolve(false);
    this.#renewing ??= this.#renewOnce().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      this.#stopTimers();
      await this.run('lockRelease', [this.key], [this.#value]);
    })();
    return this.#released;
  }

  async #renewOnce(): Promise<boolean> {
    // The new TTL counts from when the command left, not from when the reply came back.
    const sentAt = Date.now();
    const reply = await this.run('lockRenew', [this.key], [this.#value, this.options.ttlMs]);
    if (this.#released || this.signal.aborted) return false;
    if (Number(reply) !== 1) {
      this.#lose('the lock was taken or expired before renewal');
      return false;
    }
    this.#armExpiry(sentAt);
    return true;
  }

  #autoRenew(): void {
    this.renew().catch((error: unknown) => {
      // Not fatal yet: the expiry timer aborts the lease if no renewal succeeds within the TTL.
      this.options.logger.warn({ err: error }, 'mailbox lock renewal failed');
    });
  }

  #armExpiry(validFrom: number): void {
    clearTimeout(this.#expiryTimer);
    const remaining = validFrom + this.options.ttlMs - Date.now();
    this.#expiryTimer = setTimeout(() => this.#lose('no renewal succeeded within the lock TTL'), remaining);
    this.#expiryTimer.unref();
  }

  #lose(message: string): void {
    this.#stopTimers();
    this.#controller.abort(new PophookError('LOCK_LOST', message));
  }

  #stopTimers(): void {
    clearInterval(this.#renewTimer);
    clearTimeout(this.#expiryTimer);
  }
}
