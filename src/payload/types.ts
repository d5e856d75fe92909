// The shapes of payload version 1 (the webhook body) and the inputs that build it. The JSON Schema in
// schema/payload-v1.schema.json is the published form of PayloadV1; the two are kept in step by a test.
import type { AttachmentsConfig } from '../config/index.ts';

/** The JSON shape a webhook receives: pophook's payload v1, or Postmark's inbound webhook JSON. */
export type PayloadFormat = 'pophook' | 'postmark';

export interface PayloadMeta {
  /** Equals the webhook-id header: stable across retries and redeliveries of one message. */
  id: string;
  /** The shape of the JSON body (the webhook's `format`); absent: pophook. */
  format?: PayloadFormat;
  mailbox: string;
  uidl: string;
  /** When pophook retrieved the message from the POP3 server. */
  receivedAt: Date;
  /** The stored bytes are a reduced form of a message over maxMessageSize (src/mailbox/oversize.ts). */
  truncated?: PayloadTruncation;
}

export interface ParseLimits {
  /** Budget of one parse in a ParserPool thread; the thread is terminated when it runs over. */
  timeoutMs: number;
  /** MIME parts in the whole message, the root part included. */
  maxParts: number;
  /** Nesting of multipart and message/rfc822 containers; the root part is depth 0. */
  maxDepth: number;
  /** Bytes of one header block (the root's or any part's), so also of any single header line. */
  maxHeaderBytes: number;
}

/** What the operator chose for one mailbox's payloads (config: mailboxes.<id>). */
export interface PayloadOptions {
  /** authserv-ids whose Authentication-Results the payload reports (RFC 8601 §5); absent: none. */
  trustedAuthservIds?: readonly string[];
  /** A TNEF part (winmail.dat) whose files were unpacked: kept in `attachments` (default) or dropped. */
  winmailDat?: 'keep' | 'drop';
}

/** A webhook's attachment policy, and the directory where the thread writes the referenced ones' bytes. */
export interface AttachmentPlacement {
  policy: AttachmentsConfig;
  /** Needed in reference mode: a directory of this attempt, removed by the caller. */
  dir?: string;
}

/**
 * An attachment the thread wrote into a file for the caller to upload: the JSON holds a placeholder
 * string at [start, end) (byte offsets) that the caller replaces with the object's `reference`.
 */
export interface ReferencedAttachment {
  path: string;
  size: number;
  sha256: string;
  contentType: string;
  start: number;
  end: number;
}

/** What a parse hands over besides the JSON when attachments went by reference. */
export interface ReferencedParts {
  /** sha256 of the raw message: objects are keyed by it, so a redelivery finds them. */
  messageSha256: string;
  attachments: ReferencedAttachment[];
}

/** PayloadOptions by mailbox id, as the parse threads get them. */
export type MailboxPayloadOptions = Readonly<Record<string, PayloadOptions>>;

/** What buildPayload needs; the time budget belongs to the thread that runs it. */
export type StructureLimits = Pick<ParseLimits, 'maxParts' | 'maxDepth' | 'maxHeaderBytes'>;

/**
 * Generous for real mail, small enough that hostile mail fails fast. mailparser's own caps are 1000 parts
 * and 1 MiB of header per part, and a thread's budget must stay well under a queue job's lock.
 */
export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  timeoutMs: 20_000,
  maxParts: 1000,
  maxDepth: 32,
  maxHeaderBytes: 1024 * 1024,
});

export interface PayloadAddress {
  /** The display name, RFC 2047 decoded; null when the header gave none. */
  name: string | null;
  /** The addr-spec; null when the header gave a name without an address. */
  address: string | null;
}

export interface PayloadHeader {
  name: string;
  value: string;
}

/** The envelope as the delivering server recorded it in the header (see intake-signals.ts). */
export interface PayloadEnvelope {
  /** The recipient address the message was delivered to; null when no header names it. */
  to: string | null;
  /** The Return-Path address; '' for the null sender `<>` (bounces), null when absent. */
  returnPath: string | null;
}

export interface AuthResult {
  /** As the server wrote it, lower-case: pass, fail, softfail, neutral, none, temperror, permerror… */
  result: string;
}

/** Results from Authentication-Results fields of trusted authserv-ids (authentication-results.ts). */
export interface PayloadAuthentication {
  /** The authserv-id of the topmost trusted field. */
  authservId: string;
  /** `domain`: of smtp.mailfrom (else smtp.helo). */
  spf: (AuthResult & { domain: string | null }) | null;
  /** One entry per signature: `domain` from header.d (else header.i), `selector` from header.s. */
  dkim: (AuthResult & { domain: string | null; selector: string | null })[];
  /** `domain`: of header.from. */
  dmarc: (AuthResult & { domain: string | null }) | null;
  arc: AuthResult | null;
}

/** One recipient of a delivery failure report (bounce.ts). */
export interface BounceRecipient {
  /** Final-Recipient (else Original-Recipient), without its `rfc822;` type. */
  recipient: string | null;
  /** failed, delayed, delivered, relayed or expanded (RFC 3464 §2.3.3). */
  action: string | null;
  /** The enhanced status code (RFC 3463), e.g. 5.1.1. */
  status: string | null;
  /** Diagnostic-Code without its type, or the remote server's reply quoted by the report. */
  diagnostic: string | null;
  remoteMta: string | null;
}

export interface PayloadBounce {
  /** dsn: RFC 3464; exim: X-Failed-Recipients; qmail: qmail-send's text. */
  form: 'dsn' | 'exim' | 'qmail';
  reportingMta: string | null;
  /** The Message-ID of the message that could not be delivered, from the copy the report returns. */
  originalMessageId: string | null;
  recipients: BounceRecipient[];
}

export type Disposition = 'attachment' | 'inline';

/** mime: a part of the message; tnef: a file unpacked from a winmail.dat part (tnef.ts). */
export type AttachmentSource = 'mime' | 'tnef';

/** Where a referenced attachment's bytes are: an object in the storage bucket and a pre-signed GET URL. */
export interface AttachmentReference {
  key: string;
  url: string;
  /** When the URL stops working (ISO 8601); the object itself lives until the bucket's lifecycle rule. */
  expiresAt: string;
}

/**
 * One attachment: its bytes as base64 `content` (inline, the default), or in object storage
 * (`reference`, attachments.mode: reference), or left out (`skipped`, attachments.skip).
 */
export interface PayloadAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  disposition: Disposition | null;
  source: AttachmentSource;
  content?: string;
  reference?: AttachmentReference;
  skipped?: true;
}

/** Anomalies the parse survived; each name is listed, with its meaning, in the JSON Schema. */
export type PayloadWarning =
  | 'missing-boundary'
  | 'unterminated-multipart'
  | 'invalid-charset'
  | 'undeclared-charset'
  | 'nul-bytes'
  | 'invalid-date'
  | 'html-to-text-failed'
  | 'tnef-unreadable';

/** An attachment whose body `strip-attachments` left out of the stored message. */
export interface DroppedAttachment {
  filename: string | null;
  contentType: string;
  /** Decoded bytes, estimated from the transfer-encoded body (base64 lines carry 57 bytes per 78). */
  approxSize: number;
}

/** A payload built from less than the message: what was left out and why. */
export interface PayloadTruncation {
  /** headers-only: the header block alone (TOP n 0); strip-attachments: attachment bodies dropped. */
  reason: 'headers-only' | 'strip-attachments';
  /** Bytes of the whole message as the server listed it (LIST); the payload's `size` is what was kept. */
  originalSize: number;
  /** The mailbox's maxMessageSize the message went over. */
  limit: number;
  /** In message order; empty for headers-only (nothing of the body was read). */
  droppedAttachments: DroppedAttachment[];
}

export interface PayloadV1 {
  id: string;
  version: 1;
  mailbox: string;
  uidl: string;
  receivedAt: string;
  messageId: string | null;
  date: string | null;
  subject: string | null;
  from: PayloadAddress | null;
  to: PayloadAddress[];
  cc: PayloadAddress[];
  bcc: PayloadAddress[];
  replyTo: PayloadAddress[];
  inReplyTo: string | null;
  references: string[];
  headers: PayloadHeader[];
  autoReply: boolean;
  bulk: boolean;
  envelope: PayloadEnvelope;
  mailboxHash: string | null;
  authentication: PayloadAuthentication | null;
  text: string | null;
  html: string | null;
  /** The reply's own text: `text` without quoted history and signature (stripped-text.ts). */
  strippedText: string | null;
  attachments: PayloadAttachment[];
  size: number;
  sha256: string;
  /** One digest per email across mailboxes: of the Message-ID, else of author fields and body (content-key.ts). */
  contentKey: string;
  warnings: PayloadWarning[];
  bounce: PayloadBounce | null;
  /** Null for a whole message; set when the message was over maxMessageSize and delivered reduced. */
  truncated: PayloadTruncation | null;
  /** Only on a copy delivered by `dedupe.mode: mark`: the first copy of the same contentKey. */
  duplicateOf?: DuplicateOf;
}

/** The first copy of an email, as a later copy's payload names it (`dedupe.mode: mark`). */
export interface DuplicateOf {
  /** The first copy's webhook-id. */
  id: string;
  mailbox: string;
  uidl: string;
}

/** The few facts about a payload worth a log line, so logs never carry bodies. */
export interface PayloadSummary {
  messageId: string | null;
  /** What deduplication across mailboxes claims (src/delivery/dedupe.ts). */
  contentKey: string;
  subject: string | null;
  attachments: number;
  size: number;
}
