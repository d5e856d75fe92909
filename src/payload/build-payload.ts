// Raw RFC 5322 message bytes to payload version 1, in the calling thread. The pre-scan enforces the
// structure limits before mailparser runs; the time budget is the job of the thread that calls this
// (ParserPool), since nothing inside one thread can interrupt a parser stuck in a loop. The parts shared
// with the streamed form (spool-payload.ts) live here, so both give the same payload.
import { createHash } from 'node:crypto';
import { placementOf, type References } from './attachment-policy.ts';
import { EntryBudget, type EntryHead, entriesOf } from './attachments.ts';
import { readAuthentication } from './authentication-results.ts';
import { readBounce } from './bounce.ts';
import { contentKey } from './content-key.ts';
import { readIntakeSignals } from './intake-signals.ts';
import { type HeaderFields, type MessageBodies, parseMail } from './mail-parser.ts';
import { type MimeScan, scanMime } from './mime-scan.ts';
import { type RootHeaders, readRootHeaders } from './root-headers.ts';
import { stripReply } from './stripped-text.ts';
import type {
  PayloadAttachment,
  PayloadMeta,
  PayloadOptions,
  PayloadV1,
  PayloadWarning,
  StructureLimits,
} from './types.ts';

export async function buildPayload(
  raw: Buffer | AsyncIterable<Buffer>,
  meta: PayloadMeta,
  limits: StructureLimits,
  options: PayloadOptions = {},
  references?: References,
): Promise<PayloadV1> {
  const bytes = Buffer.isBuffer(raw) ? raw : await collect(raw);
  const inspected = inspectRaw(bytes, limits);
  const mail = await parseMail(bytes, limits);
  const budget = entryBudget(inspected, limits, options);
  const entries = mail.attachments.flatMap(({ content, ...head }) => entriesOf(head, content, budget));
  const tail = payloadTail(bytes, inspected, mail, budget.warnings);
  return {
    ...payloadHead(meta, inspected.root, mail, options),
    text: tail.text,
    html: tail.html,
    strippedText: tail.strippedText,
    attachments: entries.map(({ head, content }) => attachmentOf(head, content, references)),
    size: tail.size,
    sha256: tail.sha256,
    contentKey: tail.contentKey,
    warnings: tail.warnings,
    bounce: tail.bounce,
  };
}

/** One entry as the webhook's policy places it: content inline, a reference placeholder, or skipped. */
function attachmentOf(head: EntryHead, content: Buffer, references?: References): PayloadAttachment {
  const facts = attachmentFacts(head, content.length, sha256(content));
  const placement = references ? placementOf(references.policy, head.contentType, content.length) : 'inline';
  if (placement === 'skip') return { ...facts, skipped: true };
  if (placement === 'inline') return { ...facts, content: content.toString('base64') };
  const file = references!.file();
  try {
    file.write(content);
  } finally {
    file.close();
  }
  const reference = references!.add({
    path: file.path,
    size: facts.size,
    sha256: facts.sha256,
    contentType: facts.contentType,
  });
  return { ...facts, reference };
}

/** An attachment's members but where its bytes are, in payload order. */
export function attachmentFacts(head: EntryHead, size: number, digest: string) {
  return {
    filename: head.filename,
    contentType: head.contentType,
    size,
    sha256: digest,
    contentId: head.contentId,
    disposition: head.disposition,
    source: head.source,
  };
}

export interface Inspected {
  scan: MimeScan;
  root: RootHeaders;
}

/** The structure limits enforced and the root header read, before any parser sees the message. */
export function inspectRaw(bytes: Buffer, limits: StructureLimits): Inspected {
  const scan = scanMime(bytes, limits);
  return { scan, root: readRootHeaders(scan.rootHeader) };
}

/** The parts a message may still add (files unpacked from TNEF) under maxParts. */
export function entryBudget(
  { scan }: Inspected,
  limits: StructureLimits,
  options: PayloadOptions,
): EntryBudget {
  return new EntryBudget(limits.maxParts - scan.parts, limits.maxParts, options);
}

export type PayloadHead = Omit<PayloadV1, keyof PayloadTail | 'attachments'>;

/** The fields that come before the attachments, in payload order. */
export function payloadHead(
  meta: PayloadMeta,
  root: RootHeaders,
  mail: HeaderFields,
  options: PayloadOptions,
): PayloadHead {
  return {
    id: meta.id,
    version: 1,
    mailbox: meta.mailbox,
    uidl: meta.uidl,
    receivedAt: meta.receivedAt.toISOString(),
    messageId: mail.messageId,
    date: root.date,
    subject: root.subject,
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    bcc: mail.bcc,
    replyTo: mail.replyTo,
    inReplyTo: mail.inReplyTo,
    references: mail.references,
    headers: root.headers,
    ...readIntakeSignals(root.headers),
    authentication: readAuthentication(root.headers, options.trustedAuthservIds ?? []),
    truncated: meta.truncated ?? null,
  };
}

export type PayloadTail = Pick<
  PayloadV1,
  'text' | 'html' | 'strippedText' | 'size' | 'sha256' | 'contentKey' | 'warnings' | 'bounce'
>;

/** The bodies, the raw message's size, digest and content key, and every warning, once the parse is over. */
export function payloadTail(
  bytes: Buffer,
  { scan, root }: Inspected,
  mail: MessageBodies,
  more: ReadonlySet<PayloadWarning>,
): PayloadTail {
  const warnings = new Set<PayloadWarning>([...scan.warnings, ...root.warnings, ...more]);
  if (mail.htmlToTextFailed) warnings.add('html-to-text-failed');
  let text = mail.text;
  if (scan.rootMissingBoundary && text === null && mail.html === null) {
    // A multipart without a boundary has no parts for mailparser to find; mail clients show its body as
    // plain text, and so does the payload rather than losing it.
    text = bytes.toString('utf8', scan.bodyStart).replace(/\r\n/g, '\n');
  }
  return {
    text,
    html: mail.html,
    strippedText: stripReply(text),
    size: bytes.length,
    sha256: sha256(bytes),
    contentKey: contentKey(
      root.headers,
      scan.bodyStart < 0 ? Buffer.alloc(0) : bytes.subarray(scan.bodyStart),
    ),
    warnings: [...warnings].sort(),
    bounce: readBounce(bytes, scan.reportParts, root.headers, text),
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const list: Buffer[] = [];
  for await (const chunk of chunks) list.push(chunk);
  return Buffer.concat(list);
}
