// The Redis key layout of one mailbox. Every key carries the hash tag `{<mailboxId>}` right after the
// prefix, so all keys of a mailbox live in one Redis Cluster slot and multi-key Lua scripts stay legal.
//
// Redis hashes only what sits between the FIRST `{` and the first `}` after it (cluster spec, "Hash tags").
// The prefix may therefore not contain `{` or `}`, and mailbox ids are /^[A-Za-z0-9_-]+$/ (the config
// enforces it; we check again because a wrong tag would break slotting silently, not loudly).
//
// UIDLs are 1–70 characters 0x21–0x7E (RFC 1939 §7), but servers break rules. Inside a key a UIDL is used
// raw when it is plainly safe, and as `#<sha256 hex>` otherwise. "Safe" excludes `{` `}` (hash-tag
// delimiters: harmless after our tag, but misleading to anyone re-deriving a slot), `:` (our separator),
// the glob characters `* ? [ ] \` (so SCAN MATCH over a mailbox stays exact) and `#` itself (so a raw UIDL
// can never equal a digest form). Ledger hash FIELDS always hold the UIDL verbatim: fields are binary-safe.
import { createHash } from 'node:crypto';
import { PophookError } from '../errors.ts';

export interface MailboxKeys {
  /** Hash: UIDL → ledger entry (JSON). */
  readonly ledger: string;
  /** Hash: last poll time/outcome and counters, for status and metrics. */
  readonly meta: string;
  /** String: the start point's marker (JSON), see Ledger.onboarding(). */
  readonly onboarding: string;
  /** String: the session lock (`<token> <owner>`). */
  readonly lock: string;
  /** String: the raw message of one UIDL. */
  raw(uidl: string): string;
  /** String: a raw message being written, renamed to `raw(uidl)` once complete. */
  rawTemp(uidl: string, writeId: string): string;
}

const MAILBOX_ID = /^[A-Za-z0-9_-]+$/;
const SAFE_UIDL = /^[\x21-\x7E]{1,70}$/;
const UNSAFE_IN_KEY = /[{}:*?[\]\\#]/;

/** The key-safe form of a UIDL: itself when safe, else `#` + sha256 hex of its UTF-8 bytes. */
export function uidlKeyPart(uidl: string): string {
  if (SAFE_UIDL.test(uidl) && !UNSAFE_IN_KEY.test(uidl)) return uidl;
  return `#${createHash('sha256').update(uidl, 'utf8').digest('hex')}`;
}

export function mailboxKeys(prefix: string, mailbox: string): MailboxKeys {
  if (!MAILBOX_ID.test(mailbox)) {
    throw new PophookError('CONFIG_INVALID', 'mailbox id must match /^[A-Za-z0-9_-]+$/', {
      details: { mailbox },
    });
  }
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new PophookError('CONFIG_INVALID', 'redis prefix must not contain { or } (cluster hash tags)', {
      details: { prefix },
    });
  }
  const base = `${prefix}:{${mailbox}}`;
  return {
    ledger: `${base}:ledger`,
    meta: `${base}:meta`,
    lock: `${base}:lock`,
    onboarding: `${base}:onboarding`,
    raw: (uidl) => `${base}:raw:${uidlKeyPart(uidl)}`,
    rawTemp: (uidl, writeId) => `${base}:rawtmp:${uidlKeyPart(uidl)}:${writeId}`,
  };
}
