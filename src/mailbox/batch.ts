// Which new messages one session retrieves: in server order, up to the per-poll message and byte budgets.
// Messages over maxMessageSize are never retrieved in full; the rest wait for the next session.
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
