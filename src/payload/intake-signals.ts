// What a helpdesk reads from the root header block before it opens a ticket: whether the message was sent
// by a machine answering another message (autoReply, RFC 3834 and the vendor headers that predate it) or
// to many people at once (bulk), the envelope recipient the message was delivered to, its return path,
// and the plus tag of that recipient (mailboxHash), which ticket systems route on.
import { firstField } from './header-fields.ts';
import type { PayloadEnvelope, PayloadHeader } from './types.ts';

export interface IntakeSignals {
  autoReply: boolean;
  bulk: boolean;
  envelope: PayloadEnvelope;
  mailboxHash: string | null;
}

// The headers that name the envelope recipient, the most specific first: Postfix writes X-Original-To
// with the address as the sender gave it (before alias expansion), Delivered-To is written by most
// delivery agents (Postfix, Dovecot, Gmail), Envelope-To by Exim. The topmost of a name is the last hop.
const RECIPIENT_HEADERS = ['x-original-to', 'delivered-to', 'envelope-to'];

export function readIntakeSignals(headers: readonly PayloadHeader[]): IntakeSignals {
  const envelope: PayloadEnvelope = {
    to: firstAddress(recipientField(headers)),
    returnPath: returnPath(firstField(headers, 'return-path')),
  };
  return {
    autoReply: isAutoReply(headers),
    bulk: isBulk(headers),
    envelope,
    mailboxHash: plusTag(envelope.to),
  };
}

/** The first of RECIPIENT_HEADERS present (a loop: a mapped array's shape deoptimizes the code reading it). */
function recipientField(headers: readonly PayloadHeader[]): string | undefined {
  for (const name of RECIPIENT_HEADERS) {
    const value = firstField(headers, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * RFC 3834 §5: `Auto-Submitted` other than `no` (auto-replied, auto-generated, auto-notified); the older
 * `X-Autoreply` / `X-Autorespond` (vacation, procmail, cPanel) and `Precedence: auto_reply`; Exchange's
 * out-of-office replies carry `X-Auto-Response-Suppress` (All, OOF or AutoReply) so that nothing answers
 * them in turn, which is exactly the loop a helpdesk must not start.
 */
function isAutoReply(headers: readonly PayloadHeader[]): boolean {
  return headers.some(({ name, value }) => {
    const key = name.toLowerCase();
    const token = firstToken(value);
    if (key === 'auto-submitted') return token !== '' && token !== 'no';
    if (key === 'x-autoreply' || key === 'x-autorespond') return token !== 'no';
    if (key === 'precedence') return token === 'auto_reply';
    if (key === 'x-auto-response-suppress') return /\b(?:all|oof|autoreply)\b/i.test(value);
    return false;
  });
}

/** `Precedence: bulk | list | junk` (RFC 3834 §3.1.8 names them), or a mailing list's RFC 2369/2919 fields. */
function isBulk(headers: readonly PayloadHeader[]): boolean {
  return headers.some(({ name, value }) => {
    const key = name.toLowerCase();
    if (key === 'list-id' || key === 'list-unsubscribe') return true;
    return key === 'precedence' && ['bulk', 'list', 'junk'].includes(firstToken(value));
  });
}

/** The value's first word, lower-cased, without parameters or comments (`auto-replied; owner=…`). */
function firstToken(value: string): string {
  return (/^\s*([^\s;(]*)/.exec(value)?.[1] ?? '').toLowerCase();
}

/** The first addr-spec of a header that holds one or a list (`<a@b>`, `a@b`, `a@b, c@d`, Exim's form). */
function firstAddress(value: string | undefined): string | null {
  if (value === undefined) return null;
  const match = /<([^<>\s]+@[^<>\s]+)>|([^\s<>,;"()]+@[^\s<>,;"()]+)/.exec(value);
  return match?.[1] ?? match?.[2] ?? null;
}

/** RFC 5321 §4.4: the reverse-path; `<>` (a bounce's null sender) is the empty string, absent is null. */
function returnPath(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (/^\s*<\s*>/.test(value)) return '';
  return firstAddress(value);
}

/** `support+acme@example.net` → `acme` (sub-addressing, RFC 5233); null when the local part has no `+`. */
export function plusTag(address: string | null): string | null {
  if (address === null) return null;
  const local = address.slice(0, address.lastIndexOf('@'));
  const plus = local.indexOf('+');
  return plus < 0 || plus === local.length - 1 ? null : local.slice(plus + 1);
}
