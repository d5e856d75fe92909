// The one home of mailparser: runs simpleParser with pophook's options and narrows its loose result
// (strings, arrays or Address objects, `false` for absent) into the few shapes the payload needs.
import { type AddressObject, type EmailAddress, type ParsedMail, simpleParser } from 'mailparser';
import { PophookError } from '../errors.ts';
import type { Disposition, PayloadAddress, StructureLimits } from './types.ts';

export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  contentId: string | null;
  disposition: Disposition | null;
  content: Buffer;
}

export interface ParsedMessage {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: PayloadAddress | null;
  to: PayloadAddress[];
  cc: PayloadAddress[];
  bcc: PayloadAddress[];
  replyTo: PayloadAddress[];
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  htmlToTextFailed: boolean;
}

// HTML longer than this (in characters) is not converted to text: html-to-text is the slowest step on big
// newsletters, and a message is better delivered with an empty `text` and a warning than timed out.
const MAX_HTML_TO_TEXT_CHARS = 2 * 1024 * 1024;

export async function parseMail(raw: Buffer, limits: StructureLimits): Promise<ParsedMessage> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, {
      keepCidLinks: true, // attachments already carry the images; inlining data: URLs would double them
      checksumAlgo: false, // the payload hashes with SHA-256 itself
      maxHeadSize: limits.maxHeaderBytes,
      maxChildNodes: limits.maxParts,
      maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS,
    });
  } catch (error) {
    throw toPophookError(error);
  }
  const from = addresses(mail.from);
  return {
    messageId: mail.messageId ?? null,
    inReplyTo: mail.inReplyTo ?? null,
    references: mail.references === undefined ? [] : [mail.references].flat(),
    from: from[0] ?? null,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    bcc: addresses(mail.bcc),
    replyTo: addresses(mail.replyTo),
    text: mail.text ?? null,
    html: typeof mail.html === 'string' ? mail.html : null,
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      contentId: attachment.contentId ?? null,
      disposition: disposition(attachment.contentDisposition),
      content: attachment.content,
    })),
    htmlToTextFailed: mail.textConversionError !== undefined,
  };
}

/** Every mailbox of one or more address headers, groups flattened (RFC 5322 §3.4: group members count). */
function addresses(header: AddressObject | AddressObject[] | undefined): PayloadAddress[] {
  const out: PayloadAddress[] = [];
  const visit = (entry: EmailAddress) => {
    if (entry.group !== undefined) {
      entry.group.forEach(visit);
      return;
    }
    const name = entry.name === '' ? null : entry.name;
    const address = entry.address === undefined || entry.address === '' ? null : entry.address;
    if (name !== null || address !== null) out.push({ name, address });
  };
  for (const object of [header ?? []].flat()) object.value.forEach(visit);
  return out;
}

/** RFC 2183 §2.8: an unrecognised disposition type is treated as `attachment`. */
function disposition(value: string | undefined): Disposition | null {
  if (value === undefined || value === '') return null;
  return value.toLowerCase() === 'inline' ? 'inline' : 'attachment';
}

function toPophookError(error: unknown): PophookError {
  // mailsplit tags its own size limits (head size, child nodes) with EMAXLEN.
  if ((error as { code?: unknown } | null)?.code === 'EMAXLEN') {
    return new PophookError('PAYLOAD_LIMIT', 'mailparser refused the message structure', {
      cause: error,
      details: { limit: 'mailparser' },
    });
  }
  return new PophookError('PAYLOAD_PARSE_FAILED', 'mailparser failed on the message', { cause: error });
}
