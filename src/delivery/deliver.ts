// One delivery attempt of one message: raw bytes from Redis → payload v1 (parsed off the main thread) →
// signed POST → on 2xx the ledger says `delivered` (and only then; a batch records its 2xx in one script,
// deliver-job.ts). Permanent failures and an exhausted
// retry period make the message a dead letter, which stays on the POP3 server; everything else is retried.
// With routes (route-step.ts) the webhook is chosen first; a fan-out target (`routed: 'fan-out'`) has its
// 2xx and its dead letter recorded per target (deadLetter is the one place a dead letter is recorded).
// Building and sending the payload itself: prepared-payload.ts.
import { UnrecoverableError } from 'bullmq';
import type { Routing, WebhookConfig } from '../config/index.ts';
import { isPophookError, isRetryable, PophookError } from '../errors.ts';
import type { Ledger, RawReader } from '../ledger/index.ts';
import type { ParserPool } from '../payload/parser-pool.ts';
import type { MessageDelivery } from '../queue/jobs.ts';
import type { AttachmentStore } from '../storage/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { shouldGiveUp, type WebhookSender } from '../webhook/index.ts';
import type { DeadLetterEvents } from './dead-events.ts';
import type { Deduper, GuardedResult } from './dedupe.ts';
import { type PreparedPayload, preparePayload, shapeOf } from './prepared-payload.ts';

export interface DeliverDeps {
  ledger: Ledger;
  raw: RawReader;
  parser: ParserPool;
  sender: WebhookSender;
  webhooks: Readonly<Record<string, WebhookConfig>>;
  /** Deduplication across mailboxes (config `dedupe`); absent: every copy is sent. */
  dedupe?: Deduper;
  /** Queues the `message.dead` event of each dead letter (dead-events.ts). */
  deadLetters: Pick<DeadLetterEvents, 'announce'>;
  /** Object storage of attachments by reference; absent when no webhook uses it (config rules). */
  storage?: AttachmentStore;
  /** Each mailbox's routes; a mailbox without an entry delivers to its job's webhook. */
  routing?: Readonly<Record<string, Routing>>;
  /** Delete mode: ask for an early poll so the DELE doesn't wait a whole interval. */
  afterDelivered(mailbox: string): Promise<void>;
  now(): number;
  logger: Logger;
}

/**
 * `attempt`: this attempt's number (1 for the first), kept in the ledger with the outcome. `prepared`:
 * the payload routing already built (used when its shape fits the webhook, disposed either way).
 */
export interface DeliverOptions {
  signal?: AbortSignal;
  attempt?: number;
  prepared?: PreparedPayload;
}

/**
 * What an attempt ended in: `accepted` is a 2xx the ledger does not know yet (the caller records it);
 * `marked`: sent with duplicateOf; `duplicate`: a copy of an email already accepted, recorded, not sent
 * (dedupe.ts).
 */
export type AttemptResult =
  | { outcome: 'accepted'; status: number; marked?: boolean }
  | { outcome: 'duplicate' }
  | NothingSent;

/** An attempt that sent nothing: the message was delivered already, or its raw bytes are gone. */
export type NothingSent = { outcome: 'already-delivered' | 'raw-missing' };

/**
 * One attempt without the ledger write of a 2xx. A permanent failure, or a retryable one past the
 * webhook's retry period, makes the message a dead letter and throws UnrecoverableError; any other failure
 * is thrown as it is (retry it).
 */
export async function attemptDelivery(
  deps: DeliverDeps,
  job: MessageDelivery,
  options: DeliverOptions = {},
): Promise<AttemptResult> {
  const webhook = deps.webhooks[job.webhook];
  if (!webhook) {
    await options.prepared?.dispose();
    return deadLetter(
      deps,
      job,
      new PophookError('CONFIG_INVALID', `webhook "${job.webhook}" is not configured`),
      options.attempt,
    );
  }
  try {
    if (job.routed === 'fan-out' && (await targetDelivered(deps, job))) {
      await options.prepared?.dispose();
      return { outcome: 'already-delivered' };
    }
    const result = await parseAndSend(deps, webhook, job, options);
    if (result.outcome === 'accepted') return result;
    // Recorded delivered (a duplicate) already: its DELE is asked for as a batch does after recording.
    await earlyPoll(deps, job.mailbox);
    return { outcome: 'duplicate' };
  } catch (error) {
    return failedAttempt(deps, job, webhook, error, options.attempt);
  }
}

/** A repeat of a fan-out target's job (a crash after its 2xx was recorded) sends nothing again. */
async function targetDelivered(deps: DeliverDeps, job: MessageDelivery): Promise<boolean> {
  const entry = await deps.ledger.get(job.mailbox, job.uidl);
  return entry?.state === 'delivered' || entry?.targets?.[job.webhook]?.state === 'delivered';
}

/**
 * What a failed attempt (or routing step) means: the raw bytes gone, a dead letter (permanent, or past
 * the webhook's retry period; throws UnrecoverableError), or a retry (throws the error as it is).
 */
export async function failedAttempt(
  deps: DeliverDeps,
  job: MessageDelivery,
  webhook: WebhookConfig | undefined,
  error: unknown,
  attempt: number | undefined,
): Promise<NothingSent> {
  if (isPophookError(error, 'RAW_MISSING')) {
    // markDelivered deletes the raw with the same script, so a delivered message has no raw: this is a
    // duplicate job for a message already accepted (a lost ack, a reconcile race). Asking the ledger only
    // now saves a round trip on every other delivery.
    const entry = await deps.ledger.get(job.mailbox, job.uidl);
    if (entry?.state === 'delivered') return { outcome: 'already-delivered' };
    // The bytes expired or Redis lost them: forget the entry so the next poll retrieves the message again.
    await deps.ledger.forgetIf(job.mailbox, job.uidl, 'queued');
    deps.logger.warn({ uidl: job.uidl }, 'raw message missing: it will be retrieved again');
    return { outcome: 'raw-missing' };
  }
  if (!isRetryable(error) || (webhook && shouldGiveUp(job.queuedAt, deps.now(), webhook.retryForMs))) {
    return deadLetter(deps, job, error, attempt);
  }
  throw error;
}

/** Delivered is final: a failed early poll only means the DELE waits for the next scheduled poll. */
export async function earlyPoll(deps: DeliverDeps, mailbox: string): Promise<void> {
  await deps.afterDelivered(mailbox).catch((error: unknown) => {
    deps.logger.warn({ err: (error as Error).message }, 'early poll not queued: the scheduled poll deletes');
  });
}

/** Sends the routing step's payload when its shape fits the webhook, else builds one for it. */
async function parseAndSend(
  deps: DeliverDeps,
  webhook: WebhookConfig,
  job: MessageDelivery,
  options: DeliverOptions,
): Promise<GuardedResult> {
  let prepared = options.prepared;
  if (prepared?.shape !== shapeOf(webhook)) {
    await prepared?.dispose();
    prepared = await preparePayload(deps, job, webhook, options);
  }
  try {
    return await prepared.send(webhook, options);
  } finally {
    await prepared.dispose();
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

async function deadLetter(
  deps: DeliverDeps,
  job: MessageDelivery,
  error: unknown,
  attempts: number | undefined,
): Promise<never> {
  const { code, status } = describeFailure(error);
  const reason = error instanceof Error ? error.message : String(error);
  const failure = { code, reason, ...(status === undefined ? {} : { status }), ...receiverAnswer(error) };
  // A fan-out target dead-letters alone: the message stays on the server, the other targets go on; its
  // message.dead event goes once every target settled and the message as a whole is dead (here, or where
  // the last target's 2xx is recorded, deliver-job.ts).
  if (job.routed === 'fan-out') {
    const after = await deps.ledger.markTarget(job.mailbox, job.uidl, job.webhook, {
      state: 'dead',
      error: failure,
      attempts,
    });
    if (after === 'dead') await deps.deadLetters.announce(job.mailbox, job.uidl, 'queued');
  } else {
    const previous = await deps.ledger.markDead(job.mailbox, job.uidl, {
      ...failure,
      ...(attempts === undefined ? {} : { attempts }),
    });
    await deps.deadLetters.announce(job.mailbox, job.uidl, previous);
  }
  const target = job.routed === 'fan-out' ? { webhook: job.webhook } : {};
  deps.logger.warn(
    { uidl: job.uidl, ...target, code, status },
    'dead letter: the message stays on the server',
  );
  const final = new UnrecoverableError(`${code}: ${reason}`);
  final.cause = error;
  throw final;
}

/** What the receiver answered, as the sender kept it (bounded, control characters removed). */
function receiverAnswer(error: unknown): { statusText?: string; body?: string } {
  if (!(error instanceof PophookError)) return {};
  const { statusText, bodyExcerpt } = error.details;
  return {
    ...(typeof statusText === 'string' && statusText !== '' ? { statusText } : {}),
    ...(typeof bodyExcerpt === 'string' && bodyExcerpt !== '' ? { body: bodyExcerpt } : {}),
  };
}
