// What a session reads from a message's headers (TOP n 0) before deciding whether to retrieve it: its Date
// (RFC 5322 §3.6.1; obsolete forms as V8's Date parser reads them, like the payload's `date`) and, for
// `poll --dry-run`, its Subject. Only the header block is read, and at most HEADER_READ_MAX bytes of it.
import type { Readable } from 'node:stream';
import { firstField, splitFields } from '../payload/header-fields.ts';
import { decodeEncodedWords, decodeHeaderBytes } from '../payload/header-text.ts';

export interface MessageHeaders {
  /** Epoch ms of the Date field; undefined when it is missing or unreadable. */
  dateMs: number | undefined;
  subject: string | undefined;
}

/** A header block past this is cut: Date and Subject sit near the top, and the rest is not needed here. */
const HEADER_READ_MAX = 256 * 1024;

/** Reads the header block from a TOP body; the unread rest is left to the client to discard. */
export async function readMessageHeaders(body: Readable): Promise<MessageHeaders> {
  const text = (await readHead(body)).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return parseHeaders(end === -1 ? text : text.slice(0, end));
}

/** The first HEADER_READ_MAX bytes of a TOP body (enough for the header block of nearly all mail). */
export async function readHead(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= HEADER_READ_MAX) break;
  }
  return Buffer.concat(chunks).subarray(0, HEADER_READ_MAX);
}

export function parseHeaders(block: string): MessageHeaders {
  const fields = splitFields(block);
  const date = firstField(fields, 'date');
  const time = date === undefined || date === '' ? Number.NaN : Date.parse(date);
  const subject = firstField(fields, 'subject');
  return {
    dateMs: Number.isNaN(time) ? undefined : time,
    subject: subject === undefined ? undefined : decodeEncodedWords(decodeHeaderBytes(subject)).text,
  };
}
