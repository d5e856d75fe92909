// The messages between ParserPool (main thread) and a parse thread, and the one serializer both sides use
// for the JSON body, so the shapes cannot drift apart.
import type { ErrorCode } from '../errors.ts';
import { toPostmark } from './postmark.ts';
import { type RouteFacts, routeFacts } from './route-facts.ts';
import type {
  AttachmentPlacement,
  MailboxPayloadOptions,
  PayloadFormat,
  PayloadMeta,
  PayloadSummary,
  PayloadV1,
  ReferencedParts,
  StructureLimits,
} from './types.ts';

/** Fixed for a thread's life: given as workerData. */
export interface ThreadData {
  limits: StructureLimits;
  /** Looked up by the request's meta.mailbox; a mailbox without an entry gets the defaults. */
  payloadOptions: MailboxPayloadOptions;
}

export interface ParseRequest {
  type: 'parse';
  seq: number;
  /** A copy of the raw message, transferred (the caller keeps its own Buffer), or a view of shared memory. */
  raw: Uint8Array;
  meta: PayloadMeta;
  /** Write the JSON into this new file (spool-payload.ts) instead of answering with it. */
  spoolPath?: string;
  /** The webhook's attachment policy (attachment-policy.ts); absent: every attachment inline. */
  attachments?: AttachmentPlacement;
  /** Answer with the route facts too (only routes that depend on the message read them). */
  facts?: true;
}

/** A parse's answer: the JSON itself, or how much of it went into the spool file. */
export type ParseAnswer =
  | {
      type: 'done';
      seq: number;
      body: Uint8Array;
      summary: PayloadSummary;
      facts?: RouteFacts;
      references?: ReferencedParts;
    }
  | {
      type: 'spooled';
      seq: number;
      bytes: number;
      summary: PayloadSummary;
      facts?: RouteFacts;
      references?: ReferencedParts;
    };

export type ThreadMessage =
  | { type: 'ready' }
  | ParseAnswer
  | {
      type: 'failed';
      seq: number;
      code: ErrorCode;
      message: string;
      details: Record<string, unknown>;
    };

/**
 * The payload as a JSON Buffer that owns its whole ArrayBuffer: a pooled Buffer shares one with others,
 * and transferring it would detach bytes that are not ours.
 */
export function serializePayload(payload: PayloadV1, format: PayloadFormat = 'pophook'): Buffer {
  const json = JSON.stringify(format === 'postmark' ? toPostmark(payload) : payload);
  const body = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  body.write(json, 'utf8');
  return body;
}

export function factsOf(payload: PayloadV1): RouteFacts {
  return routeFacts(payload.headers, payload.subject, {
    attachmentTypes: payload.attachments.map((a) => a.contentType),
    bounce: payload.bounce !== null,
  });
}

export function summarize(payload: PayloadV1): PayloadSummary {
  return {
    messageId: payload.messageId,
    contentKey: payload.contentKey,
    subject: payload.subject,
    attachments: payload.attachments.length,
    size: payload.size,
  };
}
