// One delivery attempt of one message: raw bytes from Redis → payload v1 (parsed off the main thread) →
// signed POST → on 2xx the ledger says `delivered` (and only then; a batch records its 2xx in one script,
// deliver-job.ts). Permanent failures and an exhausted
// retry period make the message a dead letter, which stays on the POP3 server; everything else is retried.
// With routes (route-step.ts) the webhook is chosen first; a fan-out target (`routed: 'fan-out'`) has its
// 2xx and its dead letter recorded per target (deadLetter is the one place a dead letter is recorded).
// A message of STREAM_THRESHOLD_BYTES or more never becomes one Buffer in this thread: it is read from Redis
// in chunks into shared memory the parse thread reads in place, the thread writes the JSON into a spool
// file (attachments base64-encoded piece by piece), and the sender signs the file, then streams it. The
// spool (in os.tmpdir(), so TMPDIR moves it) lives for one attempt: a retry parses again.
// A webhook with attachments by reference gets the same directory for the attachment files the thread
// writes; every one is in the bucket (src/storage/) before the POST, whose body carries their references.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { Routing, WebhookConfig } from '../config/index.ts';
import { isPophookError, isRetryable, PophookError } from '../errors.ts';
import { collectGarbage, GarbagePacer } from '../gc.ts';
import type { Ledger, RawStore } from '../ledger/index.ts';
// Not the payload index, which would load mailparser into this thread.
import { appendDuplicateOf, withDuplicateOf } from '../payload/duplicate-of.ts';
import type { ParseOptions, ParserPool, SpoolAnswer } from '../payload/parser-pool.ts';
import type { RouteFacts } from '../payload/route-facts.ts';
import type { PayloadMeta, ReferencedParts } from '../payload/types.ts';
import type { MessageDelivery } from '../queue/jobs.ts';
import type { AttachmentStore, PlacedReference } from '../storage/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { shouldGiveUp, type WebhookSender } from '../webhook/index.ts';
import type { DeadLetterEvents } from './dead-events.ts';
import type { Deduper, GuardedResult, Post } from './dedupe.ts';
import { bufferBody, spooledBody } from './webhook-body.ts';

export interface DeliverDeps {
  ledger: Ledger;
  raw: RawStore;
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
 * From this size on a message is streamed through a spool file; below it the one-Buffer path is faster
 * and its few copies of a small message cost little (bench/: `npm run bench`, deliver worker memory).
 */
export const STREAM_THRESHOLD_BYTES = 4 * 1024 * 1024;

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
 * A payload built in one webhook's shape (its format and attachment policy), ready to be sent (then
 * disposed): referenced attachments are uploaded, then the POST goes through deduplication.
 */
export interface PreparedPayload {
  /** shapeOf() of the webhook it was built for: another webhook of the same shape can take it. */
  shape: string;
  facts: RouteFacts;
  send(webhook: WebhookConfig, options: DeliverOptions): Promise<GuardedResult>;
  dispose(): Promise<void>;
}

/** What decides a payload's bytes besides the message: the JSON shape and where attachments go. */
const shapeOf = (webhook: WebhookConfig) => JSON.stringify([webhook.format, webhook.attachments]);

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

/**
 * Raw bytes from Redis → payload JSON for `job.webhookId` in `webhook`'s shape: a Buffer, or a spool file
 * (and the files of attachments by reference) in a directory of this attempt.
 */
export async function preparePayload(
  deps: DeliverDeps,
  job: MessageDelivery,
  webhook: WebhookConfig,
  options: { signal?: AbortSignal },
): Promise<PreparedPayload> {
  const meta: PayloadMeta = {
    id: job.webhookId,
    format: webhook.format,
    mailbox: job.mailbox,
    uidl: job.uidl,
    receivedAt: new Date(job.receivedAt),
    ...(job.truncated ? { truncated: job.truncated } : {}),
  };
  const shape = shapeOf(webhook);
  const { attachments } = webhook;
  const webhookId = job.webhookId;
  if (job.size < STREAM_THRESHOLD_BYTES && attachments.mode !== 'reference') {
    const raw = await deps.raw.readBuffer(job.mailbox, job.uidl);
    const placement = attachments.skip ? { policy: attachments } : undefined;
    const parsed = await deps.parser.parse(raw, meta, { ...options, attachments: placement });
    return {
      shape,
      facts: parsed.facts,
      send: (target, opts) =>
        guardedSend(deps, target, job, parsed.summary.contentKey, opts, (duplicateOf) => {
          const body = duplicateOf ? withDuplicateOf(parsed.body, duplicateOf) : parsed.body;
          return deps.sender.send(target, { webhookId, body }, opts);
        }),
      dispose: async () => {},
    };
  }
  // A spool file, or the files of referenced attachments, live in a directory of this attempt.
  const dir = await mkdtemp(join(tmpdir(), 'pophook-spool-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const parse = { ...options, attachments: { policy: attachments, dir } };
    if (job.size < STREAM_THRESHOLD_BYTES) {
      const raw = await deps.raw.readBuffer(job.mailbox, job.uidl);
      const parsed = await deps.parser.parse(raw, meta, parse);
      return {
        shape,
        facts: parsed.facts,
        send: async (target, opts) => {
          const placed = await uploadReferences(deps, job, parsed.references, opts);
          return guardedSend(deps, target, job, parsed.summary.contentKey, opts, (duplicateOf) => {
            // duplicateOf goes at the end of the JSON: the references' byte positions before it hold.
            const json = duplicateOf ? withDuplicateOf(parsed.body, duplicateOf) : parsed.body;
            return deps.sender.send(target, { webhookId, body: bufferBody(json, placed) }, opts);
          });
        },
        dispose,
      };
    }
    const path = join(dir, 'payload.json');
    const spooled = await spoolFromRedis(deps, job, meta, path, parse);
    // The raw bytes are unreachable now (the parse thread collected on its side): free them before the
    // request body's own buffers come.
    collectGarbage();
    return {
      shape,
      facts: spooled.facts,
      send: async (target, opts) => {
        const placed = await uploadReferences(deps, job, spooled.references, opts);
        return guardedSend(deps, target, job, spooled.summary.contentKey, opts, async (duplicateOf) => {
          const bytes = duplicateOf
            ? await appendDuplicateOf(path, spooled.bytes, duplicateOf)
            : spooled.bytes;
          return deps.sender.send(target, { webhookId, body: spooledBody(path, bytes, placed) }, opts);
        });
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The one hook of deduplication: after the parse (the contentKey is known), around the POST. */
async function guardedSend(
  deps: DeliverDeps,
  webhook: WebhookConfig,
  job: MessageDelivery,
  contentKey: string,
  options: DeliverOptions,
  post: Post,
): Promise<GuardedResult> {
  // A fan-out target is always sent: a duplicate is recorded for a whole message, and the targets keep
  // their own states (docs/guarantees.md, "Duplicates across mailboxes").
  if (deps.dedupe && job.routed !== 'fan-out') {
    return deps.dedupe.send(job, webhook, contentKey, post, options.attempt);
  }
  const { status } = await post(undefined);
  return { outcome: 'accepted', status };
}

/** Every referenced attachment in the bucket before the POST: a failed upload fails the attempt. */
async function uploadReferences(
  deps: DeliverDeps,
  job: MessageDelivery,
  references: ReferencedParts | undefined,
  options: { signal?: AbortSignal },
): Promise<PlacedReference[]> {
  if (references === undefined || references.attachments.length === 0) return [];
  if (deps.storage === undefined) {
    throw new PophookError(
      'CONFIG_INVALID',
      `webhook "${job.webhook}" uses attachments by reference: add storage:`,
    );
  }
  try {
    const { placed, counts } = await deps.storage.store(job.mailbox, references, options);
    deps.logger.debug({ uidl: job.uidl, ...counts }, 'attachments stored by reference');
    return placed;
  } catch (error) {
    // The attempt's log line has the code only; what S3 answered and what to check are here.
    deps.logger.warn({ uidl: job.uidl, err: (error as Error).message }, 'attachment upload failed');
    throw error;
  }
}

/** Its own frame, so the raw message's memory is not held by the caller while the request is sent. */
async function spoolFromRedis(
  deps: DeliverDeps,
  job: MessageDelivery,
  meta: PayloadMeta,
  path: string,
  options: ParseOptions,
): Promise<SpoolAnswer> {
  const raw = await readShared(deps.raw, job, options.signal);
  return deps.parser.spool(raw, meta, path, options);
}

/** The raw message, chunk by chunk, into one SharedArrayBuffer (the parse thread reads it without a copy). */
async function readShared(raw: RawStore, job: MessageDelivery, signal?: AbortSignal): Promise<Uint8Array> {
  const size = await raw.size(job.mailbox, job.uidl);
  const missing = () =>
    new PophookError('RAW_MISSING', 'the raw message is not in Redis', {
      details: { mailbox: job.mailbox, uidl: job.uidl },
    });
  if (size === null) throw missing();
  const bytes = new Uint8Array(new SharedArrayBuffer(size));
  let offset = 0;
  const pacer = new GarbagePacer();
  for await (const chunk of raw.read(job.mailbox, job.uidl, signal ? { signal } : {})) {
    if (offset + chunk.length > size) throw missing(); // rewritten in between: start over next attempt
    bytes.set(chunk, offset);
    offset += chunk.length;
    pacer.add(chunk.length);
  }
  if (offset !== size) throw missing();
  pacer.flush();
  return bytes;
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
