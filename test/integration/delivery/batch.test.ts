// A deliver job carrying a window of messages, against a real Redis and receiver: each message keeps its
// own outcome in the ledger (delivered, dead letter, retry), a retry leaves the batch as a job of its own
// delayed by its backoff (Retry-After honoured) with its attempt count and error, a batch asked to stop
// hands back what it did not start, and a job of one message still fails to retry (BullMQ's backoff).
import { describe, expect, it } from 'vitest';
import { type DeliverJobDeps, runDeliverJob } from '../../../src/delivery/deliver-job.ts';
import { Limiter } from '../../../src/delivery/limiter.ts';
import { type DeliverJobData, type DeliverMessage, queuedMessage } from '../../../src/queue/jobs.ts';
import type { DeliveryObservation } from '../../../src/telemetry/observations.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

interface Harness {
  deps: DeliverJobDeps & ReturnType<typeof fx.deps>;
  enqueued: Array<{ data: DeliverJobData; delayMs: number }>;
  observed: DeliveryObservation[];
  messages: DeliverMessage[];
  observer: { poll(): void; delivery(o: DeliveryObservation): void };
}

/** Stores and queues `uidls` as one batch of mailbox `inbox` for webhook `rx`. */
async function harness(uidls: string[], draining = false): Promise<Harness> {
  const base = fx.deps();
  const enqueued: Harness['enqueued'] = [];
  const observed: DeliveryObservation[] = [];
  const corpus = smallCorpus(uidls.length, 11);
  const messages: DeliverMessage[] = [];
  for (const [i, uidl] of uidls.entries()) {
    const stored = await base.raw.write('inbox', uidl, [corpus[i]!.raw], { ttlMs: 60_000 });
    messages.push(queuedMessage(uidl, 'inbox', stored.size, Date.now()));
  }
  await base.ledger.markQueuedMany('inbox', messages, { job: 'batch-1' });
  const deps = {
    ...base,
    limiter: new Limiter(2),
    draining: () => draining,
    enqueue: async (data: DeliverJobData, delayMs: number) => {
      enqueued.push({ data, delayMs });
    },
  };
  const observer = { poll() {}, delivery: (o: DeliveryObservation) => observed.push(o) };
  return { deps, enqueued, observed, messages, observer };
}

/** Counts the slots asked for and not yet given back (waiting or running), and the most at once. */
class CountingLimiter extends Limiter {
  outstanding = 0;
  mostOutstanding = 0;

  override async acquire() {
    this.outstanding += 1;
    this.mostOutstanding = Math.max(this.mostOutstanding, this.outstanding);
    const release = await super.acquire();
    return () => {
      this.outstanding -= 1;
      release();
    };
  }
}

const run = (h: Harness, attemptsMade = 0) =>
  runDeliverJob(h.deps, h.observer, {
    id: 'batch-1',
    queueName: 'deliver',
    attemptsMade,
    data: { mailbox: 'inbox', webhook: 'rx', messages: h.messages },
  });

const uidlOf = (json: unknown) => (json as { uidl: string }).uidl;

describe('a deliver job of several messages', () => {
  it('gives each message its own outcome; a retry leaves as a delayed job of its own', async () => {
    const h = await harness(['ok-1', 'ok-2', 'busy', 'refused', 'ok-3']);
    await fx.receiver.setRespond((request) => {
      const uidl = uidlOf(request.json);
      if (uidl === 'busy') return { status: 503, headers: { 'retry-after': '7' } };
      if (uidl === 'refused') return 400;
      return 200;
    });

    expect(await run(h)).toEqual({ delivered: 3 });

    const entries = await h.deps.ledger.entries('inbox');
    for (const uidl of ['ok-1', 'ok-2', 'ok-3']) {
      expect(entries.get(uidl)).toMatchObject({ state: 'delivered', status: 200, attempts: 1 });
      expect(entries.get(uidl)?.job).toBeUndefined();
      expect(await h.deps.raw.exists('inbox', uidl)).toBe(false);
    }
    expect(entries.get('refused')).toMatchObject({ state: 'dead', lastError: { status: 400 } });
    expect(entries.get('busy')).toMatchObject({ state: 'queued', job: 'batch-1' });
    expect(await h.deps.raw.exists('inbox', 'busy')).toBe(true);

    expect(h.enqueued).toHaveLength(1);
    const [retry] = h.enqueued;
    expect(retry!.delayMs).toBeGreaterThanOrEqual(7_000);
    expect(retry!.data.messages).toEqual([
      expect.objectContaining({ uidl: 'busy', priorAttempts: 1, lastError: expect.stringContaining('503') }),
    ]);
    expect(h.observed.map((o) => o.outcome).sort()).toEqual([
      'dead-letter',
      'delivered',
      'delivered',
      'delivered',
      'retry',
    ]);
  });

  it('starts a message only once the limiter has a slot for it: one of its messages waits, not all', async () => {
    const h = await harness(Array.from({ length: 12 }, (_, i) => `m-${i}`));
    const limiter = new CountingLimiter(2);
    h.deps.limiter = limiter;
    await fx.receiver.setRespond(200);

    expect(await run(h)).toEqual({ delivered: 12 });
    // Two in flight and the next one waiting; a job that queued every message at once held all 12.
    expect(limiter.mostOutstanding).toBe(3);
    expect(limiter.outstanding).toBe(0);
  });

  it('asks two slots for a message of 4 MiB or more, one for a small one', async () => {
    const h = await harness(['small']);
    const body = 'x'
      .repeat(76)
      .concat('\r\n')
      .repeat(Math.ceil((4 * 1024 * 1024) / 78));
    const big = Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n\r\n${body}`);
    const stored = await h.deps.raw.write('inbox', 'big', [big], { ttlMs: 60_000 });
    const bigMessage = queuedMessage('big', 'inbox', stored.size, Date.now());
    await h.deps.ledger.markQueuedMany('inbox', [bigMessage], { job: 'batch-1' });
    h.messages.push(bigMessage);
    const asked: number[] = [];
    const limiter = new Limiter(8);
    h.deps.limiter = Object.assign(Object.create(limiter) as Limiter, {
      acquire: (slots?: number) => {
        asked.push(slots ?? 1);
        return limiter.acquire(slots);
      },
    });
    await fx.receiver.setRespond(200);

    expect(await run(h)).toEqual({ delivered: 2 });
    expect(asked).toEqual([1, 2]);
  });

  it('counts the attempts a retried message made in earlier jobs', async () => {
    const h = await harness(['again']);
    h.messages[0]!.priorAttempts = 3;
    await fx.receiver.setRespond(200);
    await run(h);
    expect(await h.deps.ledger.get('inbox', 'again')).toMatchObject({ state: 'delivered', attempts: 4 });
  });

  it('asked to stop, starts none and hands them all back as one job', async () => {
    const h = await harness(['a', 'b', 'c'], true);
    fx.receiver.clear();
    await fx.receiver.setRespond(200);
    expect(await run(h)).toEqual({ delivered: 0 });
    expect(fx.receiver.deliveries).toHaveLength(0);
    expect(h.enqueued).toEqual([{ data: expect.objectContaining({ messages: h.messages }), delayMs: 0 }]);
    const entries = await h.deps.ledger.entries('inbox');
    expect([...entries.values()].every((e) => e.state === 'queued')).toBe(true);
  });

  it('a job of one message fails to retry instead of splitting', async () => {
    const h = await harness(['solo']);
    await fx.receiver.setRespond(503);
    await expect(run(h)).rejects.toMatchObject({ code: 'WEBHOOK_HTTP_RETRYABLE' });
    expect(h.enqueued).toEqual([]);
    expect(await h.deps.ledger.get('inbox', 'solo')).toMatchObject({ state: 'queued' });
  });

  it('a message already delivered by an earlier run of the batch is not sent again', async () => {
    const h = await harness(['first', 'second']);
    await fx.receiver.setRespond(200);
    await h.deps.ledger.markDelivered('inbox', 'first', { status: 200 });
    fx.receiver.clear();
    await run(h, 1);
    expect(fx.receiver.deliveries.map((d) => uidlOf(d.json))).toEqual(['second']);
    expect(await h.deps.ledger.get('inbox', 'second')).toMatchObject({ state: 'delivered', attempts: 2 });
  });
});
