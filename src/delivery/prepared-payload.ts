// One payload, built once in a webhook's shape and sent: raw bytes from Redis → payload v1 (parsed off the
// main thread) → the referenced attachments in the bucket → deduplication's claim → the signed POST.
// A message of STREAM_THRESHOLD_BYTES or more never becomes one Buffer in this thread: it is read from Redis
// in chunks into shared memory the parse thread reads in place, the thread writes the JSON into a spool
// file (attachments base64-encoded piece by piece), and the sender signs the file, then streams it. The
// spool (in os.tmpdir(), so TMPDIR moves it) lives for one attempt: a retry parses again.
// A webhook with attachments by reference gets the same directory for the attachment files the thread
// writes; every one is in the bucket (src/storage/) before the POST, whose body carries their references.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebhookConfig } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import { collectGarbage, GarbagePacer } from '../gc.ts';
import type { RawReader } from '../ledger/index.ts';
// Not the payload index, which would load mailparser into this thread.
import { appendDuplicateOf, withDuplicateOf } from '../payload/duplicate-of.ts';
import type { ParseOptions, SpoolAnswer } from '../payload/parser-pool.ts';
import type { RouteFacts } from '../payload/route-facts.ts';
import type { PayloadMeta, ReferencedParts } from '../payload/types.ts';
import type { MessageDelivery } from '../queue/jobs.ts';
import type { PlacedReference } from '../storage/index.ts';
import type { GuardedResult, Post } from './dedupe.ts';
import type { DeliverDeps, DeliverOptions } from './deliver.ts';
import { bufferBody, spooledBody } from './webhook-body.ts';

/**
 * From this size on a message is streamed through a spool file; below it the one-Buffer path is faster
 * and its few copies of a small message cost little (bench/: `npm run bench`, deliver worker memory).
 */
export const STREAM_THRESHOLD_BYTES = 4 * 1024 * 1024;

/**
 * A payload built in one webhook's shape (its format and attachment policy), ready to be sent (then
 * disposed): referenced attachments are uploaded, then the POST goes through deduplication.
 */
export interface PreparedPayload {
  /** shapeOf() of the webhook it was built for: another webhook of the same shape can take it. */
  shape: string;
  /** What routes look at: present when asked for (`facts: true`). */
  facts?: RouteFacts;
  send(webhook: WebhookConfig, options: DeliverOptions): Promise<GuardedResult>;
  dispose(): Promise<void>;
}

/** What decides a payload's bytes besides the message: the JSON shape and where attachments go. */
export function shapeOf(webhook: WebhookConfig): string {
  let shape = shapes.get(webhook);
  if (shape === undefined) {
    shape = JSON.stringify([webhook.format, webhook.attachments]);
    shapes.set(webhook, shape);
  }
  return shape;
}

// Per config object: a reloaded config brings new objects (and the old ones' entries go with them).
const shapes = new WeakMap<WebhookConfig, string>();

/**
 * Raw bytes from Redis → payload JSON for `job.webhookId` in `webhook`'s shape: a Buffer, or a spool file
 * (and the files of attachments by reference) in a directory of this attempt.
 */
export async function preparePayload(
  deps: DeliverDeps,
  job: MessageDelivery,
  webhook: WebhookConfig,
  options: { signal?: AbortSignal; facts?: boolean },
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
async function readShared(raw: RawReader, job: MessageDelivery, signal?: AbortSignal): Promise<Uint8Array> {
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
