// The one home of mailparser: runs simpleParser with pophook's options and narrows its loose result
// (strings, arrays or Address objects, `false` for absent) into the few shapes the payload needs. For big
// messages, streamMail runs mailparser's streaming MailParser instead and hands each attachment's decoded
// bytes to the caller as they come (mailparser holds the parse while a consumer is slow), so no attachment
// is ever one Buffer; everything else it reports the way simpleParser does.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import {
  type AddressObject,
  type AttachmentStream,
  type EmailAddress,
  type Headers,
  MailParser,
  type MessageText,
  type ParsedMail,
  simpleParser,
} from 'mailparser';
import { isPophookError, PophookError } from '../errors.ts';
import { deferAddressRenderings } from './address-renderings.ts';
import type { Disposition, PayloadAddress, StructureLimits } from './types.ts';

// Rendered only where an inline forwarded message's header block prints them (address-renderings.ts).
deferAddressRenderings(MailParser);

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

// Bytes handed to the streaming parser per write: small enough that back-pressure can act between writes.
const FEED_BYTES = 64 * 1024;

const parserOptions = (limits: StructureLimits) => ({
  keepCidLinks: true, // attachments already carry the images; inlining data: URLs would double them
  checksumAlgo: false as const, // the payload hashes with SHA-256 itself
  maxHeadSize: limits.maxHeaderBytes,
  maxChildNodes: limits.maxParts,
  maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS,
  // The payload has no textAsHtml: building it (links found, HTML-escaped) was 4% of the parse thread.
  skipTextToHtml: true,
});

export async function parseMail(raw: Buffer, limits: StructureLimits): Promise<ParsedMessage> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, parserOptions(limits));
  } catch (error) {
    throw toPophookError(error);
  }
  // Pushed, not mapped: TurboFan's inlined map returns a holey array, which deoptimizes buildPayload's reader.
  const attachments: ParsedAttachment[] = [];
  for (const attachment of mail.attachments) {
    attachments.push({ ...attachmentHead(attachment), content: attachment.content });
  }
  return {
    ...headerFields(mail),
    text: mail.text ?? null,
    html: typeof mail.html === 'string' ? mail.html : null,
    attachments,
    htmlToTextFailed: mail.textConversionError !== undefined,
  };
}

export type AttachmentHead = Omit<ParsedAttachment, 'content'>;
export type HeaderFields = ReturnType<typeof headerFields>;
export type MessageBodies = Pick<ParsedMessage, 'text' | 'html' | 'htmlToTextFailed'>;

export interface StreamHooks {
  /** Called once, before any attachment: the fields read from the root header. */
  onHeaders(fields: HeaderFields): void;
  /** Must consume `content` to its end: the parse waits for it (mailparser's back-pressure). */
  onAttachment(head: AttachmentHead, content: Readable): Promise<void>;
}

/**
 * Parses `raw` with the streaming MailParser, fed in slices so back-pressure can act between them.
 * Reports what simpleParser would give, attachments through `hooks` and the bodies at the end.
 */
export async function streamMail(
  raw: Buffer,
  limits: StructureLimits,
  hooks: StreamHooks,
): Promise<MessageBodies> {
  const parser = new MailParser(parserOptions(limits));
  let headers: Headers = new Map();
  parser.on('headers', (parsed: Headers) => {
    headers = parsed;
  });
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    hooks.onHeaders(headerFields(fromHeaders(headers)));
  };
  let text: MessageText | undefined;
  const feed = async () => {
    for (let offset = 0; offset < raw.length; offset += FEED_BYTES) {
      if (!parser.write(raw.subarray(offset, offset + FEED_BYTES))) await once(parser, 'drain');
    }
    parser.end();
  };
  const read = async () => {
    for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
      announce();
      if (data.type === 'text') text = data;
      else {
        await hooks.onAttachment(attachmentHead(data), data.content as Readable);
        data.release?.();
      }
    }
    announce();
  };
  try {
    await Promise.all([feed(), read()]);
  } catch (error) {
    parser.destroy();
    throw isPophookError(error) ? error : toPophookError(error);
  }
  return {
    text: typeof text?.text === 'string' ? text.text : null,
    html: typeof text?.html === 'string' ? text.html : null,
    htmlToTextFailed:
      (text as { textConversionError?: unknown } | undefined)?.textConversionError !== undefined,
  };
}

/** The address and id fields from the header map, as simpleParser copies them onto its result. */
function fromHeaders(headers: Headers): HeaderSource {
  const get = <T>(key: string) => headers.get(key) as T | undefined;
  return {
    from: get('from'),
    to: get('to'),
    cc: get('cc'),
    bcc: get('bcc'),
    replyTo: get('reply-to'),
    messageId: get('message-id'),
    inReplyTo: get('in-reply-to'),
    references: get('references'),
  };
}

type HeaderSource = Pick<
  ParsedMail,
  'from' | 'to' | 'cc' | 'bcc' | 'replyTo' | 'messageId' | 'inReplyTo' | 'references'
>;

function headerFields(mail: HeaderSource) {
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
  };
}

function attachmentHead(attachment: AttachmentStream | ParsedMail['attachments'][number]): AttachmentHead {
  return {
    filename: attachment.filename ?? null,
    contentType: attachment.contentType,
    contentId: attachment.contentId ?? null,
    disposition: disposition(attachment.contentDisposition),
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
