// Per-webhook delivery stats against a real Redis: attempts are buffered and written in one MULTI per
// webhook, and what is read back is what one write per attempt would have left.
import { describe, expect, it } from 'vitest';
import { DeliveryStats, RECENT_MAX, webhookStatsKeys } from '../../../src/ops/delivery-stats.ts';
import { uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

const fx = useRedis();

describe('DeliveryStats', () => {
  it('writes buffered attempts in one batch: counts, last ok, last error, newest first', async () => {
    const prefix = uniquePrefix();
    const stats = new DeliveryStats(fx.redis, prefix, 60_000);
    const now = Date.now();
    void stats.record('tickets', { at: now - 3, ok: true, class: '2xx', status: 200 });
    void stats.record('tickets', { at: now - 2, ok: false, class: '5xx', status: 503, code: 'WEBHOOK_HTTP' });
    void stats.record('invoices', { at: now - 2, ok: true, class: '2xx', status: 204 });
    void stats.record('tickets', { at: now - 1, ok: true, class: '2xx', status: 201 });
    // Nothing written before the flush.
    expect(await fx.redis.exists(webhookStatsKeys(prefix, 'tickets').stats)).toBe(0);
    await stats.flush();

    const tickets = await stats.read('tickets', now);
    expect(tickets).toMatchObject({
      totalOk: 2,
      totalFailed: 1,
      lastOkAt: now - 1,
      lastError: { at: now - 2, code: 'WEBHOOK_HTTP', status: 503, past: true },
      window: { attempts: 3, ok: 2 },
    });
    const recent = await fx.redis.lrange(webhookStatsKeys(prefix, 'tickets').recent, 0, -1);
    expect(recent.map((item) => (JSON.parse(item) as { at: number }).at)).toEqual([
      now - 1,
      now - 2,
      now - 3,
    ]);
    expect((await stats.read('invoices', now)).totalOk).toBe(1);
  });

  it('flushes by itself after its delay, and keeps only the last RECENT_MAX attempts', async () => {
    const prefix = uniquePrefix();
    const stats = new DeliveryStats(fx.redis, prefix, 20);
    const now = Date.now();
    // Past twice RECENT_MAX, so the batch trims what it holds on the way.
    const count = 2 * RECENT_MAX + 5;
    const written = Array.from({ length: count }, (_, i) =>
      stats.record('tickets', { at: now - 1000 + i, ok: true, class: '2xx', status: 200 }),
    );
    await Promise.all(written);
    const status = await stats.read('tickets', now);
    expect(status.totalOk).toBe(count);
    expect(status.lastOkAt).toBe(now - 1000 + count - 1);
    expect(status.window.attempts).toBe(RECENT_MAX);
    const recent = await fx.redis.lrange(webhookStatsKeys(prefix, 'tickets').recent, 0, -1);
    const expected = Array.from({ length: RECENT_MAX }, (_, i) => now - 1000 + count - 1 - i);
    expect(recent.map((item) => (JSON.parse(item) as { at: number }).at)).toEqual(expected);
  });
});
