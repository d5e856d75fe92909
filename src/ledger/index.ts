// The Redis state of each mailbox: the UIDL ledger, the raw-message store and the session lock; and the
// content claims that deduplicate copies of one email across mailboxes.
export { ContentClaims, type EmailCopy } from './content-claims.ts';
export { type LedgerEntry, type LedgerState, NO_ENTRIES, type TargetEntry } from './entry.ts';
export { mailboxKeys } from './keys.ts';
export { Ledger } from './ledger.ts';
export { MailboxLock } from './lock.ts';
export { type RawReader, RawStore, rawMissing } from './raw-store.ts';
