// Reconcile with deliver jobs that carry batches, against a real Redis ledger and raw store and a queue
// port that answers job states: a message whose batch or own job is alive is left alone; a failed batch
// gives each of its messages a job of its own (the culprit then fails alone); a failed job of its own
// makes a dead letter; a message with no job is enqueued again, or retrieved again when its bytes are gone.
import { describe, expect, it } from 'vitest';
import { Ledger, RawStore } from '../../../src/ledger/index.ts';
import { RECONCILE_GRACE_MS, reconcileQueued } from '../../../src/mailbox/reconcile.ts';
import type { MailboxSettings, SessionDeps } from '../../../src/mailbox/types.ts';
import { webhookIdFor } from '../../../src/queue/ids.ts';
import type { DeliverJobData } from '../../../src/queue/jobs.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

const fx = useRedis();
const MAILBOX: MailboxSettings = {
  id: 'inbox',
  delete: true,
  webhook: 'rx',
  maxMessageBytes: 1_000_000,
  oversize: 'dead-letter',
  batchMessages: 100,
  batchBytes: 10_000_000,
  rawTtlMs: 60_000,
  startAt: { mode: 'everything' },
};
const BATCH = 'batch-7';

async function setup(
  states: Record<string, string>,
  uidls: string[],
  withRaw: (uidl: string) => boolean,
  asked: string[] = [],
  mailbox: MailboxSettings = MAILBOX,
) {
  const prefix = uniquePrefix();
  const past = Date.now() - RECONCILE_GRACE_MS - 1_000;
  const ledger = new Ledger(fx.redis, prefix, { now: () => past });
  const raw = new RawStore(fx.redis, prefix);
  const messages = uidls.map((uidl) => ({ uidl, size: 5, webhookId: webhookIdFor('inbox', uidl) }));
  await ledger.markQueuedMany('inbox', messages, { job: BATCH });
  for (const uidl of uidls.filter(withRaw))
    await raw.write('inbox', uidl, [Buffer.from('bytes')], { ttlMs: 60_000 });
  const enqueued: DeliverJobData[] = [];
  const announced: Array<[string, string, string]> = [];
  const deps: SessionDeps = {
    ledger,
    raw,
    queue: {
      enqueueDelivery: async (data) => {
        enqueued.push(data);
        return data.messages[0]!.webhookId;
      },
      deliveryStates: async (_mailbox, ids) => {
        asked.push(...ids);
        return new Map(ids.map((id) => [id, states[id] ?? 'unknown']));
      },
    },
    deadLetters: {
      announce: async (mailbox, uidl, previous) => {
        announced.push([mailbox, uidl, previous]);
      },
    },
    now: Date.now,
    logger: silentLogger,
  };
  const listing = {
    messages: uidls.map((uidl, i) => ({ msg: i + 1, uidl, size: 5 })),
    fallbackIdentity: false,
  };
  const refetch = await reconcileQueued(deps, mailbox, listing, await ledger.entries('inbox'));
  return { ledger, enqueued, announced, refetch: refetch.map((m) => m.uidl) };
}

describe('reconcile of batched deliveries', () => {
  it('leaves messages alone while their batch or their own job is alive', async () => {
    const states = { [BATCH]: 'completed', [webhookIdFor('inbox', 'b')]: 'delayed' };
    const { enqueued, refetch } = await setup({ [BATCH]: 'active' }, ['a'], () => true);
    expect([enqueued, refetch]).toEqual([[], []]);
    const second = await setup(states, ['b'], () => true);
    expect([second.enqueued, second.refetch]).toEqual([[], []]);
  });

  it('a failed batch gives each message a job of its own; bytes gone: retrieved again', async () => {
    const { enqueued, refetch, ledger } = await setup(
      { [BATCH]: 'failed' },
      ['a', 'b', 'c'],
      (u) => u !== 'c',
    );
    expect(enqueued.map((job) => job.messages.map((m) => m.uidl))).toEqual([['a'], ['b']]);
    expect(refetch).toEqual(['c']);
    expect((await ledger.get('inbox', 'a'))?.state).toBe('queued');
  });

  it('a failed job of its own makes a dead letter', async () => {
    const states = { [BATCH]: 'failed', [webhookIdFor('inbox', 'poison')]: 'failed' };
    const { enqueued, ledger, announced } = await setup(states, ['poison'], () => true);
    expect(enqueued).toEqual([]);
    expect(announced).toEqual([['inbox', 'poison', 'queued']]);
    expect(await ledger.get('inbox', 'poison')).toMatchObject({
      state: 'dead',
      lastError: { code: 'DELIVERY_FAILED' },
    });
  });

  it('no job at all: enqueued again from the stored bytes', async () => {
    const { enqueued } = await setup({}, ['lost'], () => true);
    expect(enqueued).toEqual([
      { mailbox: 'inbox', webhook: 'rx', messages: [expect.objectContaining({ uidl: 'lost', size: 5 })] },
    ]);
  });

  it('no job for a message over maxMessageSize: retrieved again to be reduced, never enqueued from its bytes', async () => {
    const small: MailboxSettings = { ...MAILBOX, maxMessageBytes: 4, oversize: 'strip-attachments' };
    const { enqueued, refetch } = await setup({}, ['big'], () => true, [], small);
    expect([enqueued, refetch]).toEqual([[], ['big']]);
  });

  it('asks for the jobs of single messages only where their batch is gone (a backlog costs one lookup a batch)', async () => {
    const asked: string[] = [];
    const uidls = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const { enqueued } = await setup({ [BATCH]: 'waiting' }, uidls, () => true, asked);
    expect([enqueued, asked]).toEqual([[], [BATCH]]);
  });
});
