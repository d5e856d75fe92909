// The shape of one ledger entry and its decoding from Redis. Entries are small JSON objects written only
// by the Lua scripts in scripts.ts (a typical queued entry is ~90 bytes); anything else found in
// the ledger hash is refused with LEDGER_CORRUPT rather than guessed at, because the poll session DELEs
// on the strength of `state`.
import { PophookError } from '../errors.ts';
import type { EmailCopy } from './content-claims.ts';

/** Absent (no entry) means never seen. See DESIGN.md "The ledger". */
export type LedgerState = 'queued' | 'delivered' | 'dead' | 'skipped';

/** Every state with a zero, for counting. */
export const NO_ENTRIES: Readonly<Record<LedgerState, number>> = {
  queued: 0,
  delivered: 0,
  dead: 0,
  skipped: 0,
};

export interface LedgerError {
  code: string;
  status?: number;
  /** Short, never a secret: truncated to REASON_MAX characters when stored. */
  reason?: string;
  /** The reason phrase of the receiver's status line (`Bad Request`), when it answered. */
  statusText?: string;
  /** The start of the receiver's answer (at most BODY_MAX bytes, control characters removed). */
  body?: string;
}

export interface LedgerEntry {
  state: LedgerState;
  /** Epoch ms of the last state change. */
  since: number;
  size?: number;
  webhookId?: string;
  /** Id of the deliver job carrying a queued message (a batch's; gone once delivered). */
  job?: string;
  attempts?: number;
  lastError?: LedgerError;
  /** Epoch ms of the first 2xx. */
  deliveredAt?: number;
  /** HTTP status of the 2xx that made the entry delivered. */
  status?: number;
  /** A copy of an email another copy of which the webhook accepted first (dedupe): that first copy. */
  duplicateOf?: EmailCopy;
  /** A fan-out message: each target webhook's own state, by webhook id (config), as routes chose them. */
  targets?: Record<string, TargetEntry>;
  /** A drop route took the message (its name): delivered to no one, deleted in delete mode. */
  dropped?: string;
}

/** One target of a fan-out message. */
export interface TargetEntry {
  state: 'pending' | 'delivered' | 'dead';
  /** The webhook-id this target gets (its deliver job's id too). */
  id: string;
  /** Epoch ms of the 2xx or the dead letter. */
  at?: number;
  status?: number;
  attempts?: number;
  lastError?: LedgerError;
}

export const REASON_MAX = 160;
/** Status text and body come from the receiver: bounded again here, whoever the caller is. */
export const STATUS_TEXT_MAX = 100;
export const BODY_MAX_BYTES = 1024;

const STATES: ReadonlySet<string> = new Set(Object.keys(NO_ENTRIES));

export function parseEntry(uidl: string, raw: string): LedgerEntry {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw corrupt(uidl, cause);
  }
  if (typeof value !== 'object' || value === null) throw corrupt(uidl);
  const entry = value as Record<string, unknown>;
  if (typeof entry.state !== 'string' || !STATES.has(entry.state) || typeof entry.since !== 'number') {
    throw corrupt(uidl);
  }
  return entry as unknown as LedgerEntry;
}

/** Script replies are states or 'absent'; anything else means the script and this code disagree. */
export function parsePrevious(reply: unknown): LedgerState | 'absent' {
  if (reply === 'absent' || (typeof reply === 'string' && STATES.has(reply))) {
    return reply as LedgerState | 'absent';
  }
  throw new PophookError('LEDGER_CORRUPT', 'unexpected reply from a ledger script', {
    details: { reply: String(reply) },
  });
}

/** Lua scripts signal a bad entry with an error reply starting with LEDGER_CORRUPT. */
export function mapScriptError(error: unknown, uidl: string): unknown {
  if (error instanceof Error && error.message.includes('LEDGER_CORRUPT')) return corrupt(uidl, error);
  return error;
}

function corrupt(uidl: string, cause?: unknown): PophookError {
  return new PophookError('LEDGER_CORRUPT', 'a ledger entry is not one pophook wrote', {
    cause,
    details: { uidl },
  });
}
