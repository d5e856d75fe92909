// Which dead letters announce a message.dead event and what it carries, against a real Redis, parser thread
// and receiver: a retry period run out, an unparseable message, a second recording of the same dead letter
// (announced once), a queue that refuses the event (the dead letter stands), and a truncated dead letter's
// replay (forgotten, to be reduced again by the next poll).
import { describe, expect, it } from 'vitest';
import { DeadLetterEvents } from '../../../src/delivery/dead-events.ts';
import { replayDeadLetter } from '../../../src/delivery/dead-letters.ts';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import type { DeadEventJobData, PophookQueues } from '../../../src/queue/jobs.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { manyParts } from '../../fixtures/mime/corpus.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { deliverJob as job, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

/** Deps whose dead letters are announced for real, into `queued` (or refused, with `refuse`). */
function announcing(refuse = false) {
  const base = fx.deps();
  const queued: DeadEventJobData[] = [];
  const deadLetters = new DeadLetterEvents({
    ledger: base.ledger,
    raw: base.raw,
    queue: {
      enqueueDeadEvent: async (data) => {
        if (refuse) throw new Error("READONLY You can't write against a read only replica.");
        queued.push(data);
      },
    },
    targetOf: (mailbox) => (mailbox === 'inbox' ? 'alerts' : undefined),
    now: Date.now,
    logger: silentLogger,
  });
  return { deps: { ...base, deadLetters }, queued };
}

async function store(deps: ReturnType<typeof announcing>['deps'], uidl: string, raw: Buffer) {
  const stored = await deps.raw.write('inbox', uidl, [raw], { ttlMs: 60_000 });
  await deps.ledger.markQueued('inbox', uidl, { size: stored.size, webhookId: `msg_${uidl}` });
  return stored.size;
}

describe('message.dead events of dead letters', () => {
  it('a retry period run out: the last answer, the attempts and the headers, for deadLetterWebhook', async () => {
    const { deps, queued } = announcing();
    const message = smallCorpus(1, 5)[0]!;
    const size = await store(deps, 'u1', message.raw);
    await fx.receiver.setRespond({ status: 503, body: 'maintenance' });
    const late = { ...job('u1', size), queuedAt: Date.now() - 120_000 };
    await expect(attemptDelivery(deps, late, { attempt: 9 })).rejects.toMatchObject({
      name: 'UnrecoverableError',
    });

    expect(queued).toHaveLength(1);
    const [{ webhook, event }] = queued as [DeadEventJobData];
    expect(webhook).toBe('alerts');
    expect(event).toMatchObject({
      mailbox: 'inbox',
      uidl: 'u1',
      attempts: 9,
      size,
      subject: message.subject,
      error: { code: 'WEBHOOK_HTTP_RETRYABLE', status: 503, body: 'maintenance' },
    });
    expect(event.headers.find((h) => h.name.toLowerCase() === 'subject')?.value).toBe(message.subject);
  });

  it('an unparseable message: PAYLOAD_LIMIT, no attempt reached the receiver', async () => {
    const { deps, queued } = announcing();
    fx.receiver.clear();
    const size = await store(deps, 'u2', manyParts(2_000));
    await expect(attemptDelivery(deps, job('u2', size), { attempt: 1 })).rejects.toMatchObject({
      name: 'UnrecoverableError',
    });
    expect(queued.map((q) => q.event.error.code)).toEqual(['PAYLOAD_LIMIT']);
    expect(queued[0]!.event.subject).toBe('hostile');
    expect(fx.receiver.deliveries).toEqual([]);
  });

  it('announces a dead letter once, however often it is recorded', async () => {
    const { deps, queued } = announcing();
    await store(deps, 'u3', smallCorpus(1, 6)[0]!.raw);
    const reason = { code: 'WEBHOOK_HTTP_4XX', reason: 'HTTP 410', status: 410 };
    await deps.deadLetters.announce('inbox', 'u3', await deps.ledger.markDead('inbox', 'u3', reason));
    await deps.deadLetters.announce('inbox', 'u3', await deps.ledger.markDead('inbox', 'u3', reason));
    expect(queued).toHaveLength(1);
    expect(queued[0]!.event.id).toMatch(/^dead_[0-9a-f]{24}$/);
  });

  it('an event the queue refuses leaves the dead letter recorded and the delivery path unharmed', async () => {
    const { deps, queued } = announcing(true);
    const size = await store(deps, 'u4', smallCorpus(1, 7)[0]!.raw);
    await fx.receiver.setRespond(400);
    await expect(attemptDelivery(deps, job('u4', size), { attempt: 1 })).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: expect.stringMatching(/^WEBHOOK_HTTP_4XX/),
    });
    expect(queued).toEqual([]);
    expect(await deps.ledger.get('inbox', 'u4')).toMatchObject({ state: 'dead' });
  });

  it('replaying a truncated dead letter forgets it, so the next poll reduces the message again', async () => {
    const { deps } = announcing();
    await deps.raw.write('inbox', 'u5', [Buffer.from('Subject: big\r\n\r\n')], { ttlMs: 60_000 });
    // The ledger keeps a truncated message's listed size (delivery-window.ts).
    await deps.ledger.markQueued('inbox', 'u5', { size: 90_000, webhookId: 'msg_u5' });
    await deps.ledger.markDead('inbox', 'u5', { code: 'WEBHOOK_HTTP_4XX', reason: 'HTTP 400', status: 400 });
    const entry = (await deps.ledger.get('inbox', 'u5'))!;
    const mailboxes = { inbox: {} } as never;
    const replayDeps = { ...deps, queues: {} as PophookQueues, mailboxes };
    const letter = { mailbox: 'inbox', uidl: 'u5', webhookId: 'msg_u5', entry };
    expect(await replayDeadLetter(replayDeps, letter)).toBe('forgotten');
    expect(await deps.ledger.get('inbox', 'u5')).toBeUndefined();
  });
});
