// One delivery attempt of one message: raw bytes from Redis → payload v1 (parsed off the main thread) →
// signed POST → on 2xx the ledger says `delivered` (and only then). Permanent failures and an exhausted
// retry period make the message a dead letter, which stays on the POP3 server; everything else is retried.
import { UnrecoverableError } from 'bullmq';
import type { WebhookConfig } from '../config/index.ts';
import { isPophookError, PophookError } from '../errors.ts';
import type { Ledger, RawStore } from '../ledger/index.ts';
import type { Logger } from '../ops/logger.ts';
import type { ParserPool } from '../payload/index.ts';
import type { DeliverJobData } from '../queue/jobs.ts';
import type { WebhookSender } from '../webhook/index.ts';

export interface DeliverDeps {
  ledger: Ledger;
  raw: RawStore;
  parser: ParserPool;
  sender: WebhookSender;
  webhooks: Readonly<Record<string, WebhookConfig>>;
  /** Delete mode: ask for an early poll so the DELE doesn't wait a whole interval. */
  afterDelivered(mailbox: string): Promise<void>;
  now(): number;
  logger: Logger;
}

export type DeliveryOutcome = 'delivered' | 'already-delivered' | 'raw-missing';

export async function deliverMessage(
  deps: DeliverDeps,
  job: DeliverJobData,
  options: { signal?: AbortSignal } = {},
): Promise<{ outcome: DeliveryOutcome; status?: number }> {
  const entry = await deps.ledger.get(job.mailbox, job.uidl);
  // A duplicate job for a message already accepted (a lost ack, a reconcile race): don't POST again.
  if (entry?.state === 'delivered') return { outcome: 'already-delivered' };

  const webhook = deps.webhooks[job.webhook];
  if (!webhook) {
    return deadLetter(
      deps,
      job,
      new PophookError('CONFIG_INVALID', `webhook "${job.webhook}" is not configured`),
    );
  }
  try {
    const raw = await deps.raw.readBuffer(job.mailbox, job.uidl);
    const { body } = await deps.parser.parse(
      raw,
      { id: job.webhookId, mailbox: job.mailbox, uidl: job.uidl, receivedAt: new Date(job.receivedAt) },
      options,
    );
    const { status } = await deps.sender.send(webhook, { webhookId: job.webhookId, body }, options);
    await deps.ledger.markDelivered(job.mailbox, job.uidl, { status });
    await deps.afterDelivered(job.mailbox);
    return { outcome: 'delivered', status };
  } catch (error) {
    if (isPophookError(error, 'RAW_MISSING')) {
      // The bytes expired or Redis lost them: forget the entry so the next poll retrieves the message again.
      await deps.ledger.forgetIf(job.mailbox, job.uidl, 'queued');
      deps.logger.warn({ uidl: job.uidl }, 'raw message missing: it will be retrieved again');
      return { outcome: 'raw-missing' };
    }
    const retryable =
      error instanceof PophookError ? error.retryable : !(error instanceof UnrecoverableError);
    const giveUpAt = job.queuedAt + (webhook.retryForMs ?? 0);
    if (!retryable || deps.now() >= giveUpAt) return deadLetter(deps, job, error);
    throw error;
  }
}

/** The stable code and HTTP status behind a failed attempt, for logs and the ledger. */
export function describeFailure(error: unknown): { code: string; status?: number } {
  const root = error instanceof UnrecoverableError && error.cause !== undefined ? error.cause : error;
  if (root instanceof PophookError) {
    const status = root.details.status;
    return { code: root.code, ...(typeof status === 'number' ? { status } : {}) };
  }
  const code = (root as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'DELIVERY_FAILED' };
}

async function deadLetter(deps: DeliverDeps, job: DeliverJobData, error: unknown): Promise<never> {
  const { code, status } = describeFailure(error);
  const reason = error instanceof Error ? error.message : String(error);
  await deps.ledger.markDead(job.mailbox, job.uidl, {
    code,
    reason,
    ...(status === undefined ? {} : { status }),
  });
  deps.logger.warn({ uidl: job.uidl, code, status }, 'dead letter: the message stays on the server');
  const final = new UnrecoverableError(`${code}: ${reason}`);
  final.cause = error;
  throw final;
}
