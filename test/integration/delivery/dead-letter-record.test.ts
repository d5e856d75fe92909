// What attemptDelivery writes into the ledger when it gives up, against a real Redis and receiver: the
// error code, the attempt number, the receiver's status line and the first KiB of its answer (control
// characters removed), and the raw bytes kept without a TTL for a replay.
import { describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { deliverJob as job, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

describe('attemptDelivery giving up', () => {
  it("records the attempt, the status line and the start of the receiver's answer", async () => {
    const deps = fx.deps();
    const message = smallCorpus(1, 3)[0]!.raw;
    const stored = await deps.raw.write('inbox', 'u1', [message], { ttlMs: 60_000 });
    await deps.ledger.markQueued('inbox', 'u1', { size: stored.size, webhookId: 'msg_u1' });
    await fx.receiver.setRespond({
      status: 422,
      body: `{"error":"no ticket"}\n\x1b[31m${'z'.repeat(3_000)}`,
    });

    await expect(attemptDelivery(deps, job('u1', stored.size), { attempt: 4 })).rejects.toMatchObject({
      name: 'UnrecoverableError',
    });
    const entry = await deps.ledger.get('inbox', 'u1');
    expect(entry).toMatchObject({
      state: 'dead',
      attempts: 4,
      size: stored.size,
      lastError: { code: 'WEBHOOK_HTTP_4XX', status: 422, statusText: 'Unprocessable Entity' },
    });
    expect(entry?.lastError?.body).toMatch(/^\{"error":"no ticket"\} \[31mz+$/);
    // 1024 bytes were kept; the two control characters in them became one space.
    expect(Buffer.byteLength(entry?.lastError?.body ?? '')).toBe(1023);
    expect(await deps.raw.size('inbox', 'u1')).toBe(stored.size);
  });
});
