// Claims on an email's contentKey, per webhook, for deduplication across mailboxes: which copy of an email
// is being sent (pending, for a lease) or was accepted (delivered, for the dedupe window). One hash per
// (webhook, contentKey), changed only by the claim scripts in scripts.ts, so copies racing on two workers
// of a fleet see one winner. What a claim means for a delivery is decided in src/delivery/dedupe.ts.
import { type RedisClient, type RunScript, scriptRunner } from './scripts.ts';

/** A copy of an email: its webhook-id (a pure function of mailbox and UIDL), mailbox and UIDL. */
export interface EmailCopy {
  id: string;
  mailbox: string;
  uidl: string;
}

/**
 * `claimed`: this copy holds the pending claim now; `mine`: this copy was already accepted (a repeat);
 * `pending` / `delivered`: another copy is being sent / was accepted, `ttlMs` before the claim lapses.
 */
export type ClaimAnswer =
  | { kind: 'claimed' | 'mine' }
  | { kind: 'pending' | 'delivered'; first: EmailCopy; ttlMs: number };

const CONTENT_KEY = /^[0-9a-f]{64}$/;

/** The claim's key, its own hash tag (one Cluster slot per claim). */
export function claimKey(prefix: string, webhook: string, contentKey: string): string {
  if (!CONTENT_KEY.test(contentKey)) throw new RangeError('a contentKey is 64 lower-case hex digits');
  return `${prefix}:claim:{${webhook}:${contentKey}}`;
}

export class ContentClaims {
  readonly #run: RunScript;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.#run = scriptRunner(redis);
  }

  /** Takes the pending claim for `leaseMs` unless another copy holds one; says who does. */
  async take(webhook: string, contentKey: string, copy: EmailCopy, leaseMs: number): Promise<ClaimAnswer> {
    const key = claimKey(this.prefix, webhook, contentKey);
    const reply = (await this.#run('claimTake', [key], [copy.id, copy.mailbox, copy.uidl, leaseMs])) as Array<
      string | number
    >;
    const [kind, id, mailbox, uidl, ttlMs] = reply;
    if (kind === 'claimed' || kind === 'mine') return { kind };
    if (kind !== 'pending' && kind !== 'delivered') throw new Error(`unexpected claim reply ${String(kind)}`);
    return {
      kind,
      first: { id: String(id), mailbox: String(mailbox), uidl: String(uidl) },
      ttlMs: Number(ttlMs),
    };
  }

  /** After this copy's 2xx: delivered by it for `windowMs`, unless another copy's 2xx came first. */
  async confirm(webhook: string, contentKey: string, copy: EmailCopy, windowMs: number): Promise<void> {
    const key = claimKey(this.prefix, webhook, contentKey);
    await this.#run('claimConfirm', [key], [copy.id, copy.mailbox, copy.uidl, windowMs]);
  }

  /** After this copy's attempt failed: its pending claim is dropped, so another copy may be sent. */
  async release(webhook: string, contentKey: string, copy: EmailCopy): Promise<void> {
    await this.#run('claimRelease', [claimKey(this.prefix, webhook, contentKey)], [copy.id]);
  }
}
