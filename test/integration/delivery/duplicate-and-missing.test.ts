// A delivery attempt when the raw bytes are gone, against a real Redis and receiver: a duplicate job for a
// message already accepted is not POSTed again; a queued message whose bytes expired is forgotten so the
// next poll retrieves it afresh. Both are told apart by the ledger, asked only once the raw is missing.
// And a delivered message stays delivered when the early poll after it cannot be queued.
import { describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { runDeliverJob } from '../../../src/delivery/deliver-job.ts';
import { Limiter } from '../../../src/delivery/limiter.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { deliverJob as job, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

describe('a delivery without raw bytes', () => {
  it('delivers once; the same job again is already-delivered and not POSTed', async () => {
    const deps = fx.deps();
    const { raw, ledger } = deps;
    fx.receiver.clear();
    const message = smallCorpus(1, 7)[0]!.raw;
    const stored = await raw.write('inbox', 'u1', [message], { ttlMs: 60_000 });
    await ledger.markQueued('inbox', 'u1', { size: stored.size, webhookId: 'msg_u1' });
    expect(await attemptDelivery(deps, job('u1', stored.size))).toEqual({ outcome: 'accepted', status: 200 });
    await ledger.markDelivered('inbox', 'u1', { status: 200 });
    expect(await attemptDelivery(deps, job('u1', stored.size))).toEqual({ outcome: 'already-delivered' });
    expect(fx.receiver.deliveries.filter((d) => d.webhookId === 'msg_u1')).toHaveLength(1);
    expect((await ledger.get('inbox', 'u1'))?.state).toBe('delivered');
  });

  it('forgets a queued message whose bytes expired, so the next poll retrieves it again', async () => {
    const deps = fx.deps();
    const { ledger } = deps;
    fx.receiver.clear();
    await ledger.markQueued('inbox', 'u2', { size: 100, webhookId: 'msg_u2' });
    expect(await attemptDelivery(deps, job('u2', 100))).toEqual({ outcome: 'raw-missing' });
    expect(await ledger.get('inbox', 'u2')).toBeUndefined();
    expect(fx.receiver.deliveries).toHaveLength(0);
  });

  it('an early poll that cannot be queued (Redis refusing) leaves the delivery delivered', async () => {
    const deps = {
      ...fx.deps(),
      afterDelivered: async () => {
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      },
    };
    fx.receiver.clear();
    const message = smallCorpus(1, 8)[0]!.raw;
    const stored = await deps.raw.write('inbox', 'u3', [message], { ttlMs: 60_000 });
    await deps.ledger.markQueued('inbox', 'u3', { size: stored.size, webhookId: 'msg_u3' });
    const { mailbox, webhook, ...queued } = job('u3', stored.size);
    const jobDeps = { ...deps, limiter: new Limiter(1), draining: () => false, enqueue: async () => {} };
    const observer = { poll() {}, delivery() {} };
    const run = {
      id: 'msg_u3',
      queueName: 'deliver',
      attemptsMade: 0,
      data: { mailbox, webhook, messages: [queued] },
    };
    expect(await runDeliverJob(jobDeps, observer, run)).toEqual({ delivered: 1 });
    expect((await deps.ledger.get('inbox', 'u3'))?.state).toBe('delivered');
    expect(fx.receiver.deliveries).toHaveLength(1);
  });
});
