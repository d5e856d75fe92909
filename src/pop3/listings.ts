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

function parseMulti<T extends { msg: number }>(lines: readonly string[], parse: (line: string) => T): T[] {
  const seen = new Set<number>();
  const out: T[] = [];
  for (const line of lines) {
    const entry = parse(line);
    if (seen.has(entry.msg)) throw protocol(`message ${entry.msg} listed twice`);
    seen.add(entry.msg);
    out.push(entry);
  }
  return out;
}

export function parseList(lines: readonly string[]): MessageSize[] {
  return parseMulti(lines, parseListLine);
}

/** UIDL listing; a unique-id listed for two messages is also a protocol error (RFC 1939 §7). */
export function parseUidl(lines: readonly string[]): MessageUid[] {
  const entries = parseMulti(lines, parseUidlLine);
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
