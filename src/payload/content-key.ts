// The payload's `contentKey`: one digest per email, whatever mailbox it arrived through, so the receiver
// (and pophook's own deduplication, src/delivery/dedupe.ts) can tell two copies of one message apart from
// two messages. Built from what travel adds nothing to: the Message-ID, normalised (RFC 5322 §3.6.4), or,
// when the message has no usable one, the author's header fields and the body. Received, Delivered-To,
// Return-Path and every other trace field are left out on purpose: they are what differs between copies.
//
// The key is the SHA-256 (lower-case hex) of the UTF-8 JSON text of one of two arrays:
//   ["message-id", "<left@right>"]
//   ["headers", from, to, cc, date, subject, bodySha256]
// README "Payload version 1" documents both; a receiver can recompute them.
import { createHash } from 'node:crypto';
import { stripComments } from './header-fields.ts';
import type { PayloadHeader } from './types.ts';

/** RFC 5322 §2.1.1: a line (and so a usable msg-id) is at most 998 characters. */
const MAX_MESSAGE_ID = 998;
const AUTHOR_FIELDS = ['from', 'to', 'cc', 'date', 'subject'] as const;

/**
 * The key of a message from its root header fields (decoded, as the payload lists them) and the bytes of
 * its body (everything after the blank line that ends the header).
 */
export function contentKey(headers: readonly PayloadHeader[], body: Uint8Array): string {
  const messageId = normalizeMessageId(fieldValues(headers, 'message-id')[0]);
  if (messageId !== null) return digest(JSON.stringify(['message-id', messageId]));
  const fields = AUTHOR_FIELDS.map((name) => fieldValues(headers, name).map(collapseSpace).join('\n'));
  return digest(JSON.stringify(['headers', ...fields, bodyDigest(body)]));
}

/**
 * `<left@right>` with comments and white space (folding leftovers) removed, a quoted left part unquoted
 * and the right part (a domain, case-insensitive) lower-cased; the left part keeps its case (it may be
 * case-sensitive). null when there is none or it is unusable: no `@`, an empty side, or too long.
 */
export function normalizeMessageId(value: string | undefined): string | null {
  if (value === undefined) return null;
  const text = stripComments(value).replace(/\s+/g, '');
  const bracketed = /<([^<>]*)>/.exec(text);
  const inner = bracketed ? bracketed[1]! : text;
  const at = inner.lastIndexOf('@');
  if (at <= 0 || at === inner.length - 1) return null;
  const left = unquoteLocal(inner.slice(0, at));
  const right = inner.slice(at + 1).toLowerCase();
  if (left === '') return null;
  const id = `<${left}@${right}>`;
  return id.length > MAX_MESSAGE_ID ? null : id;
}

/** `"abc"` and `abc` name the same id-left (RFC 5322 §3.2.4: the quotes are not part of the value). */
function unquoteLocal(left: string): string {
  if (left.length < 2 || !left.startsWith('"') || !left.endsWith('"')) return left;
  return left.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Pushed, not filtered and mapped: TurboFan's inlined map returns a holey array, which deoptimizes its reader. */
function fieldValues(headers: readonly PayloadHeader[], name: string): string[] {
  const values: string[] = [];
  for (const h of headers) if (h.name.toLowerCase() === name) values.push(h.value);
  return values;
}

const collapseSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The body's SHA-256 with its trailing line breaks left out (a relay may add or drop the last CRLF). */
function bodyDigest(body: Uint8Array): string {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return createHash('sha256').update(body.subarray(0, end)).digest('hex');
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
