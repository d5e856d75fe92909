// Parsers for the numeric replies of the TRANSACTION state (RFC 1939 §5, §7): the STAT status text,
// LIST and UIDL scan lines, single and multi-line. A reply that breaks the grammar is POP3_PROTOCOL:
// the mailbox sync decides what to delete from these numbers, so guessing is not an option.
import { Pop3Error } from './errors.ts';
import type { MailboxStat, MessageSize, MessageUid } from './types.ts';

const NUMBER = /^\d{1,15}$/;
// RFC 1939 §7: unique-id is 1 to 70 characters in 0x21..0x7E. We accept any length up to the line bound.
const UID = /^[\x21-\x7e]+$/;

function number(word: string | undefined, what: string, line: string): number {
  if (word === undefined || !NUMBER.test(word)) throw protocol(`${what} is not a number in "${line}"`);
  return Number(word);
}

function protocol(message: string): Pop3Error {
  return new Pop3Error('POP3_PROTOCOL', message.slice(0, 300));
}

function words(line: string): string[] {
  return line.trim().split(/\s+/);
}

function messageNumber(word: string | undefined, line: string): number {
  const msg = number(word, 'message number', line);
  if (msg < 1) throw protocol(`message number 0 in "${line}"`);
  return msg;
}

/** STAT: "+OK nn mm" (RFC 1939 §5: the server may add text after the two numbers). */
export function parseStat(text: string): MailboxStat {
  const [count, size] = words(text);
  return { count: number(count, 'message count', text), size: number(size, 'mailbox size', text) };
}

/** One scan listing "msg size" (from LIST n's status text or one line of LIST). */
export function parseListLine(line: string): MessageSize {
  const [msg, size] = words(line);
  return { msg: messageNumber(msg, line), size: number(size, 'size', line) };
}

/** One unique-id listing "msg uid" (from UIDL n's status text or one line of UIDL). */
export function parseUidlLine(line: string): MessageUid {
  const [msg, uid] = words(line);
  if (uid === undefined || !UID.test(uid)) throw protocol(`bad unique-id in "${line}"`);
  return { msg: messageNumber(msg, line), uid };
}

/**
 * Every line of a multi-line LIST or UIDL body, read straight from its bytes. The common line (ASCII words
 * between single spaces) is parsed in place, with no string per line or word: a session on a big maildrop
 * made three of those per message, all living as long as the listing did. Any other line goes to the line
 * parser as the decoded text, so the grammar and its errors are the line parser's.
 */
function parseMulti<T extends { msg: number }>(
  body: Buffer,
  fast: (body: Buffer, words: WordBounds) => T | undefined,
  parse: (line: string) => T,
): T[] {
  // Servers list in ascending order, where no number can repeat: the set is built only if one comes out of it.
  let seen: Set<number> | undefined;
  const out: T[] = [];
  const words: WordBounds = [0, 0, 0, 0];
  for (let start = 0; start < body.length; ) {
    const newline = body.indexOf(0x0a, start);
    const next = newline === -1 ? body.length : newline + 1;
    const end = newline > start && body[newline - 1] === 0x0d ? newline - 1 : newline === -1 ? next : newline;
    const entry =
      (twoWords(body, start, end, words) ? fast(body, words) : undefined) ??
      parse(body.toString('utf8', start, end));
    const last = out.at(-1)?.msg ?? 0;
    if (seen === undefined && entry.msg <= last) seen = new Set(out.map((e) => e.msg));
    if (seen?.has(entry.msg)) throw protocol(`message ${entry.msg} listed twice`);
    seen?.add(entry.msg);
    out.push(entry);
    start = next;
  }
  return out;
}

/** Where a line's first two words start and end: [first, firstEnd, second, secondEnd]. */
type WordBounds = [number, number, number, number];

const SPACE = 0x20;

/**
 * Whether bytes start..end are printable ASCII words apart by spaces (what a server writes), at least two
 * of them; their bounds go into `words`. Tabs, other white space and 8-bit bytes are for the line parser.
 */
function twoWords(body: Buffer, start: number, end: number, words: WordBounds): boolean {
  let found = 0;
  for (let at = start; at < end; at++) {
    const byte = body[at]!;
    if (byte === SPACE) continue;
    if (byte < 0x21 || byte > 0x7e) return false;
    const from = at;
    while (at + 1 < end && body[at + 1]! >= 0x21 && body[at + 1]! <= 0x7e) at++;
    if (found < 2) {
      words[2 * found] = from;
      words[2 * found + 1] = at + 1;
    }
    found += 1;
  }
  return found >= 2;
}

/** The word's value when it is 1 to 15 ASCII digits (the line parser's NUMBER), else undefined. */
function digits(body: Buffer, from: number, to: number): number | undefined {
  if (to - from > 15) return undefined;
  let value = 0;
  for (let at = from; at < to; at++) {
    const digit = body[at]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

function fastListLine(body: Buffer, [msgFrom, msgTo, sizeFrom, sizeTo]: WordBounds): MessageSize | undefined {
  const msg = digits(body, msgFrom, msgTo);
  const size = digits(body, sizeFrom, sizeTo);
  return msg === undefined || msg < 1 || size === undefined ? undefined : { msg, size };
}

function fastUidlLine(body: Buffer, [msgFrom, msgTo, uidFrom, uidTo]: WordBounds): MessageUid | undefined {
  const msg = digits(body, msgFrom, msgTo);
  // The words are printable ASCII already, which is all a unique-id must be (UID).
  return msg === undefined || msg < 1 ? undefined : { msg, uid: body.toString('latin1', uidFrom, uidTo) };
}

/** A multi-line LIST body (the lines after +OK, without the terminating "."). */
export function parseList(body: Buffer): MessageSize[] {
  return parseMulti(body, fastListLine, parseListLine);
}

/** A multi-line UIDL body; a unique-id listed for two messages is also a protocol error (RFC 1939 §7). */
export function parseUidl(body: Buffer): MessageUid[] {
  const entries = parseMulti(body, fastUidlLine, parseUidlLine);
  const uids = new Set<string>();
  for (const { uid } of entries) {
    if (uids.has(uid)) throw protocol(`unique-id ${uid} listed twice`);
    uids.add(uid);
  }
  return entries;
}

/** Splits a decoded multi-line listing body into its lines (CRLF or bare LF), dropping the empty tail. */
export function listingLines(body: Buffer): string[] {
  const lines = body.toString('utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
