import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/delivery/dead-letters.ts';
import { awaitReplayOutcome } from '../../../src/delivery/replay-wait.ts';
import type { LedgerEntry } from '../../../src/ledger/index.ts';

const letter: DeadLetter = {
  mailbox: 'inbox',
  uidl: 'u1',
  webhookId: 'msg_1',
  entry: { state: 'dead', since: 0 },
};

/** A ledger whose entry goes through `states`, one per read, the last one repeating; a clock of reads. */
function scripted(states: Array<LedgerEntry | undefined>) {
  let reads = 0;
  let clock = 0;
  return {
    ledger: { get: async () => states[Math.min(reads++, states.length - 1)] },
    options: {
      timeoutMs: 10_000,
      pollMs: 1_000,
      now: () => clock,
      pause: async (ms: number) => {
        clock += ms;
      },
    },
    reads: () => reads,
  };
}

const queued: LedgerEntry = { state: 'queued', since: 1 };

describe('awaitReplayOutcome', () => {
  it('delivered: the 2xx with its status', async () => {
    const s = scripted([queued, queued, { state: 'delivered', since: 2, status: 204 }]);
    expect(await awaitReplayOutcome(s.ledger, letter, 'queued', s.options)).toEqual({
      outcome: 'delivered',
      status: 204,
    });
  });

  it('delivered: the entry was forgotten after its DELE was committed', async () => {
    const s = scripted([queued, undefined]);
    expect(await awaitReplayOutcome(s.ledger, letter, 'queued', s.options)).toEqual({ outcome: 'delivered' });
  });

  it('dead again: the new verdict', async () => {
    const dead: LedgerEntry = {
      state: 'dead',
      since: 3,
      lastError: { code: 'WEBHOOK_HTTP_4XX', status: 400 },
    };
    const s = scripted([queued, dead]);
    expect(await awaitReplayOutcome(s.ledger, letter, 'queued', s.options)).toEqual({
      outcome: 'dead',
      entry: dead,
    });
  });

  it('timeout while retries go on, after reading until the deadline', async () => {
    const s = scripted([queued]);
    expect(await awaitReplayOutcome(s.ledger, letter, 'queued', s.options)).toEqual({
      outcome: 'timeout',
      state: 'queued',
    });
    expect(s.reads()).toBe(11);
  });

  it('a forgotten letter: absent is "not retrieved yet", then it follows the new entry', async () => {
    const waiting = scripted([undefined]);
    expect(await awaitReplayOutcome(waiting.ledger, letter, 'forgotten', waiting.options)).toEqual({
      outcome: 'timeout',
      state: 'not-retrieved',
    });
    const s = scripted([undefined, undefined, queued, { state: 'delivered', since: 5, status: 200 }]);
    expect(await awaitReplayOutcome(s.ledger, letter, 'forgotten', s.options)).toEqual({
      outcome: 'delivered',
      status: 200,
    });
  });
});
