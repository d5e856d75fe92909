// One delivery per email across mailboxes (config `dedupe`): the copies of an email share the payload's
// contentKey, and per webhook the first copy the webhook accepts (2xx) claims that key for the window. A
// later copy inside the window is a duplicate: recorded as delivered with `duplicateOf` and not sent
// (skip), or sent with `duplicateOf` (mark). docs/guarantees.md, "Duplicates across mailboxes", says why
// the claim waits for the 2xx: a copy is let go (and DELE'd) only once another copy was accepted, so a
// first copy that fails or dead-letters can never take the email with it.
//
// While a copy is being sent it holds a pending claim (a lease of the webhook's timeout and a margin):
// another copy that comes meanwhile waits and retries (DEDUPE_FIRST_IN_FLIGHT) rather than being sent
// beside it. A copy that fails drops its pending claim, so the next copy goes; a crashed one's lapses.
import type { DedupeConfig, WebhookConfig } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import type { ContentClaims, EmailCopy, Ledger } from '../ledger/index.ts';
import type { MessageDelivery } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';

/** Beyond the webhook's timeout, for the parse-free rest of an attempt (signing, reading the spool). */
export const LEASE_MARGIN_MS = 30_000;

/** What a guarded send came to: sent and accepted (2xx; `marked`: with duplicateOf), or left unsent (skip). */
export type GuardedResult =
  | { outcome: 'accepted'; status: number; marked?: boolean }
  | { outcome: 'duplicate'; of: EmailCopy };

/** The POST of this copy; `duplicateOf` set: send it marked as a copy of that one. */
export type Post = (duplicateOf: EmailCopy | undefined) => Promise<{ status: number }>;

export class Deduper {
  constructor(
    private readonly claims: ContentClaims,
    private readonly ledger: Ledger,
    private readonly config: DedupeConfig,
    private readonly logger: Logger,
  ) {}

  /** Sends one copy through `post` unless, or marked when, another copy of its email was accepted first. */
  async send(
    job: MessageDelivery,
    webhook: WebhookConfig,
    contentKey: string,
    post: Post,
    attempts?: number,
  ): Promise<GuardedResult> {
    const copy: EmailCopy = { id: job.webhookId, mailbox: job.mailbox, uidl: job.uidl };
    const leaseMs = webhook.timeoutMs + LEASE_MARGIN_MS;
    const claim = await this.claims.take(webhook.id, contentKey, copy, leaseMs);
    if (claim.kind === 'pending') {
      throw new PophookError('DEDUPE_FIRST_IN_FLIGHT', 'another copy of this email is being sent', {
        details: { first: claim.first, contentKey },
      });
    }
    if (claim.kind === 'delivered') return this.#duplicate(job, claim.first, post, attempts);
    let sent: { status: number };
    try {
      sent = await post(undefined);
    } catch (error) {
      // A release that fails leaves the pending claim to lapse with its lease; the attempt's error is the news.
      if (claim.kind === 'claimed') {
        await this.claims.release(webhook.id, contentKey, copy).catch((failed: unknown) => {
          const facts = { mailbox: job.mailbox, uidl: job.uidl, err: (failed as Error).message };
          this.logger.warn(facts, 'dedupe claim not released: other copies wait for its lease');
        });
      }
      throw error;
    }
    await this.claims.confirm(webhook.id, contentKey, copy, this.config.windowMs).catch((error: unknown) => {
      // The 2xx stands; without the claim a later copy is sent again once the lease lapses (a repeat).
      const facts = { mailbox: job.mailbox, uidl: job.uidl, err: (error as Error).message };
      this.logger.warn(facts, 'dedupe claim not confirmed: a later copy may be sent again');
    });
    return { outcome: 'accepted', status: sent.status };
  }

  async #duplicate(
    job: MessageDelivery,
    first: EmailCopy,
    post: Post,
    attempts: number | undefined,
  ): Promise<GuardedResult> {
    if (this.config.mode === 'skip') {
      await this.ledger.markDuplicate(job.mailbox, job.uidl, { of: first, attempts });
      return { outcome: 'duplicate', of: first };
    }
    const { status } = await post(first);
    await this.ledger.markDuplicate(job.mailbox, job.uidl, { of: first, status, attempts });
    return { outcome: 'accepted', status, marked: true };
  }
}
