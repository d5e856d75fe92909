// The Redis state of each mailbox: the UIDL ledger, the raw-message store and the session lock.
export type { LedgerEntry, LedgerError, LedgerState } from './entry.ts';
export { mailboxKeys, uidlKeyPart } from './keys.ts';
export { Ledger } from './ledger.ts';
export { type Lease, MailboxLock } from './lock.ts';
export { RawStore } from './raw-store.ts';
