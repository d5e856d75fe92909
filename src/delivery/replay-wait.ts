// Waiting for the result of a replayed dead letter (`pophook dlq replay --wait`), read from the ledger:
// `delivered` is the webhook's 2xx; `dead` again is a new refusal (the replay left the entry `queued`, so a
// dead entry seen afterwards is a new verdict); and an entry that disappears after being queued was
// delivered and then deleted from the server (delete mode forgets an entry only once QUIT committed its
// DELE; the one other forget, for raw bytes lost from Redis, cannot hit a replay that just found them).
// A letter that was forgotten instead (over maxMessageSize) waits for the next poll to retrieve it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger, LedgerEntry } from '../ledger/index.ts';
import type { DeadLetter, ReplayResult } from './dead-letters.ts';

export type ReplayOutcome =
  | { outcome: 'delivered'; status?: number }
  | { outcome: 'dead'; entry: LedgerEntry }
  /** Still queued (retries go on) or, for a forgotten letter, not retrieved again yet. */
  | { outcome: 'timeout'; state: 'queued' | 'not-retrieved' };

export interface WaitOptions {
  timeoutMs: number;
  /** How often the ledger is read. Default 500 ms. */
  pollMs?: number;
  now?: () => number;
  /** Tests replace the pause between reads. */
  pause?: (ms: number) => Promise<unknown>;
}

export async function awaitReplayOutcome(
  ledger: Pick<Ledger, 'get'>,
  letter: DeadLetter,
  replayed: ReplayResult,
  options: WaitOptions,
): Promise<ReplayOutcome> {
  const now = options.now ?? Date.now;
  const pause = options.pause ?? sleep;
  const deadline = now() + options.timeoutMs;
  let seenQueued = replayed === 'queued';
  for (;;) {
    const entry = await ledger.get(letter.mailbox, letter.uidl);
    if (entry?.state === 'delivered') {
      return entry.status === undefined
        ? { outcome: 'delivered' }
        : { outcome: 'delivered', status: entry.status };
    }
    if (entry?.state === 'dead') return { outcome: 'dead', entry };
    if (entry?.state === 'queued') seenQueued = true;
    else if (seenQueued) return { outcome: 'delivered' };
    if (now() >= deadline) return { outcome: 'timeout', state: seenQueued ? 'queued' : 'not-retrieved' };
    await pause(Math.min(options.pollMs ?? 500, Math.max(0, deadline - now())));
  }
}
