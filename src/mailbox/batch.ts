// Which new messages one session retrieves: in server order, up to the per-poll message and byte budgets.
// Messages over maxMessageSize are never retrieved in full; the rest wait for the next session.
//
// LIST sizes are the server's estimate: Exchange Online's run a few percent under the bytes RETR sends (it
// counts its own store, not the CRLF wire form). A size judged by LIST is compared with maxMessageSize as
// is; the bytes RETR may send before the transfer is cut are allowed a margin above it, so a message LIST
// said fits is never cut (and dead-lettered) for the server's rounding.
import type { ListedMessage } from './listing.ts';

export interface BatchLimits {
  maxMessageBytes: number;
  batchMessages: number;
  batchBytes: number;
}

export interface Batch {
  fetch: ListedMessage[];
  tooLarge: ListedMessage[];
  /** New messages left for a later session because a budget ran out. */
  remaining: number;
}

/** How far RETR's bytes may run past maxMessageSize before the transfer is cut: 10%. */
const RETR_MARGIN = 0.1;

/** The byte cap of one RETR for a mailbox whose LIST-judged limit is `maxMessageBytes`. */
export function retrByteLimit(maxMessageBytes: number): number {
  return Math.ceil(maxMessageBytes * (1 + RETR_MARGIN));
}

export function pickBatch(fresh: readonly ListedMessage[], limits: BatchLimits): Batch {
  const fetch: ListedMessage[] = [];
  const tooLarge: ListedMessage[] = [];
  let bytes = 0;
  let remaining = 0;
  for (const message of fresh) {
    if (message.size > limits.maxMessageBytes) {
      tooLarge.push(message);
      continue;
    }
    // The first message always fits, so one message larger than batchBytes can't block the mailbox.
    const fits =
      fetch.length < limits.batchMessages &&
      (fetch.length === 0 || bytes + message.size <= limits.batchBytes);
    if (fits) {
      fetch.push(message);
      bytes += message.size;
    } else {
      remaining += 1;
    }
  }
  return { fetch, tooLarge, remaining };
}
