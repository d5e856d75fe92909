// The claims behind dedupe against a real Redis and a verifying receiver: copies of one email raced by two
// workers (each its own Redis connection) make one POST; the rest wait while it is in flight and are then
// recorded as its duplicates. A crashed copy's pending claim lapses; only its holder releases it. Mark
// mode on the streamed path (a message over STREAM_THRESHOLD_BYTES) appends duplicateOf to the spool.
import { describe, expect, it } from 'vitest';
import { Deduper } from '../../../src/delivery/dedupe.ts';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { STREAM_THRESHOLD_BYTES } from '../../../src/delivery/prepared-payload.ts';
import { isPophookError } from '../../../src/errors.ts';
import { ContentClaims, Ledger, RawStore } from '../../../src/ledger/index.ts';
import type { PayloadV1 } from '../../../src/payload/index.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { bigMessage, smallCorpus } from '../../helpers/mail-corpus.ts';
import { deliverJob, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();
const KEY = 'a'.repeat(64);
const copy = (n: number) => ({ id: `msg_c${n}`, mailbox: 'inbox', uidl: `c${n}` });

describe('content claims', () => {
  it('a pending claim lapses after its lease; only its holder releases it', async () => {
    const claims = new ContentClaims(fx.redis.redis, `t${Date.now()}`);
    expect(await claims.take('rx', KEY, copy(1), 300)).toEqual({ kind: 'claimed' });
    const other = await claims.take('rx', KEY, copy(2), 300);
    expect(other).toMatchObject({ kind: 'pending', first: copy(1) });
    await claims.release('rx', KEY, copy(2)); // not the holder: nothing changes
    expect((await claims.take('rx', KEY, copy(2), 300)).kind).toBe('pending');
    await new Promise((resolve) => setTimeout(resolve, 400)); // the holder crashed: its lease runs out
    expect(await claims.take('rx', KEY, copy(2), 300)).toEqual({ kind: 'claimed' });
    await claims.confirm('rx', KEY, copy(2), 60_000);
    expect(await claims.take('rx', KEY, copy(2), 300)).toEqual({ kind: 'mine' });
    expect(await claims.take('rx', KEY, copy(1), 300)).toMatchObject({ kind: 'delivered', first: copy(2) });
    // Another webhook has a claim of its own.
    expect(await claims.take('other', KEY, copy(1), 300)).toEqual({ kind: 'claimed' });
  });
});

describe('dedupe in the deliver path', () => {
  it('two workers racing on 8 copies of one email: one POST, 7 duplicates of it', async () => {
    const base = fx.deps();
    const prefix = `t${Date.now()}`;
    const ledger = new Ledger(fx.redis.redis, prefix);
    const raw = new RawStore(fx.redis.redis, prefix);
    const worker = () => ({
      ...base,
      ledger,
      raw,
      dedupe: new Deduper(
        new ContentClaims(fx.redis.client(), prefix),
        ledger,
        { windowMs: 60_000, mode: 'skip' },
        silentLogger,
      ),
    });
    const workers = [worker(), worker()];
    fx.receiver.clear();
    await fx.receiver.setRespond({ status: 200, delayMs: 300 });
    const message = smallCorpus(1, 31)[0]!.raw;
    const uidls = Array.from({ length: 8 }, (_, i) => `copy${i}`);
    const sizes = new Map<string, number>();
    for (const uidl of uidls) {
      const stored = await raw.write('inbox', uidl, [message], { ttlMs: 60_000 });
      await ledger.markQueued('inbox', uidl, { size: stored.size, webhookId: `msg_${uidl}` });
      sizes.set(uidl, stored.size);
    }
    // Each copy is attempted until it settles; a copy that found another in flight tries again shortly.
    const settle = async (uidl: string, i: number) => {
      for (let attempt = 1; attempt <= 20; attempt++) {
        try {
          return await attemptDelivery(workers[i % 2]!, deliverJob(uidl, sizes.get(uidl)!), { attempt });
        } catch (error) {
          if (!isPophookError(error, 'DEDUPE_FIRST_IN_FLIGHT')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      throw new Error(`${uidl} never settled`);
    };
    const results = await Promise.all(uidls.map(settle));

    expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(7);
    expect(fx.receiver.deliveries).toHaveLength(1);
    const first = fx.receiver.deliveries[0]!.json as PayloadV1;
    for (const uidl of uidls.filter((u) => u !== first.uidl)) {
      const entry = await ledger.get('inbox', uidl);
      expect(entry).toMatchObject({ state: 'delivered', duplicateOf: { id: first.id, uidl: first.uidl } });
      expect(await raw.size('inbox', uidl)).toBeNull();
    }
    expect(await fx.redis.redis.hget(`${prefix}:{inbox}:meta`, 'duplicates')).toBe('7');
    await fx.receiver.setRespond(200);
  });

  it('mark on the streamed path: the second copy arrives signed, with duplicateOf appended', async () => {
    const base = fx.deps({ timeoutMs: 60_000 });
    const prefix = `t${Date.now()}`;
    const ledger = new Ledger(fx.redis.redis, prefix);
    const raw = new RawStore(fx.redis.redis, prefix);
    const claims = new ContentClaims(fx.redis.redis, prefix);
    const deps = {
      ...base,
      ledger,
      raw,
      dedupe: new Deduper(claims, ledger, { windowMs: 60_000, mode: 'mark' }, silentLogger),
    };
    fx.receiver.clear();
    const message = bigMessage(STREAM_THRESHOLD_BYTES + 1024 * 1024, 5).raw;
    for (const uidl of ['big1', 'big2']) {
      await raw.write('inbox', uidl, [message], { ttlMs: 60_000 });
      await ledger.markQueued('inbox', uidl, { size: message.length, webhookId: `msg_${uidl}` });
    }
    expect(await attemptDelivery(deps, deliverJob('big1', message.length))).toEqual({
      outcome: 'accepted',
      status: 200,
    });
    expect(await attemptDelivery(deps, deliverJob('big2', message.length))).toEqual({
      outcome: 'accepted',
      status: 200,
      marked: true,
    });
    const [first, second] = fx.receiver.deliveries;
    expect(fx.receiver.deliveries).toHaveLength(2);
    expect(second!.verified).toBe(true);
    expect(second!.headers['content-length']).toBe(String(second!.body.length));
    const payload = second!.json as PayloadV1;
    const original = first!.json as PayloadV1;
    expect(payload.duplicateOf).toEqual({ id: 'msg_big1', mailbox: 'inbox', uidl: 'big1' });
    expect(original.duplicateOf).toBeUndefined();
    expect(payload.contentKey).toBe(original.contentKey);
    expect(payload.attachments[0]?.sha256).toBe(original.attachments[0]?.sha256);
    expect(await ledger.get('inbox', 'big2')).toMatchObject({
      state: 'delivered',
      status: 200,
      duplicateOf: { id: 'msg_big1', mailbox: 'inbox', uidl: 'big1' },
    });
    expect(await raw.size('inbox', 'big2')).toBeNull();
  }, 60_000);
});
