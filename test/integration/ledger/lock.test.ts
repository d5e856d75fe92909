// The mailbox lock against a real Redis: exclusivity, renewal, expiry and takeover, theft, safe release.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { MailboxLock } from '../../../src/ledger/lock.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const MB = 'support';

function setup(options: { ttlMs?: number; renewEveryMs?: number } = {}) {
  const prefix = uniquePrefix();
  return {
    key: mailboxKeys(prefix, MB).lock,
    // Two processes of the fleet: separate clients.
    a: new MailboxLock(fx.redis, prefix, options),
    b: new MailboxLock(fx.client(), prefix, options),
  };
}

describe('MailboxLock', () => {
  it('is exclusive between two owners until released', async () => {
    const { a, b } = setup();
    const lease = await a.acquire(MB, 'poller-1');
    expect(lease).not.toBeNull();
    expect(await b.acquire(MB, 'poller-2')).toBeNull();
    expect(await b.holder(MB)).toMatchObject({ owner: 'poller-1' });
    expect((await b.holder(MB))?.ttlMs).toBeGreaterThan(50_000);
    await lease!.release();
    expect(await a.holder(MB)).toBeNull();
    const second = await b.acquire(MB, 'poller-2');
    expect(second).not.toBeNull();
    await second!.release();
  });

  it('gives a fresh random token to every lease', async () => {
    const { a } = setup();
    const first = (await a.acquire(MB, 'me'))!;
    await first.release();
    const second = (await a.acquire(MB, 'me'))!;
    await second.release();
    expect(first.token).not.toBe(second.token);
    expect(first.token.length).toBeGreaterThanOrEqual(20);
  });

  it('keeps the lock alive past its TTL while auto-renewing', async () => {
    const { a, b } = setup({ ttlMs: 300 });
    const lease = (await a.acquire(MB, 'a'))!;
    await sleep(700);
    expect(lease.signal.aborted).toBe(false);
    expect(await b.acquire(MB, 'b')).toBeNull();
    await lease.release();
  });

  it('expires without renewal, aborts the signal, and can then be taken over', async () => {
    const { a, b } = setup({ ttlMs: 200, renewEveryMs: 60_000 });
    const lease = (await a.acquire(MB, 'a'))!;
    await sleep(300);
    expect(lease.signal.aborted).toBe(true);
    expect(isPophookError(lease.signal.reason, 'LOCK_LOST')).toBe(true);
    const taker = (await b.acquire(MB, 'b'))!;
    expect(taker).not.toBeNull();
    expect(await lease.renew()).toBe(false);
    await lease.release(); // must not delete the taker's lock
    expect(await b.holder(MB)).toMatchObject({ owner: 'b' });
    await taker.release();
  });

  it('renew after the lock was stolen returns false and aborts the signal', async () => {
    const { a, key } = setup({ renewEveryMs: 60_000 });
    const lease = (await a.acquire(MB, 'a'))!;
    expect(await lease.renew()).toBe(true);
    await fx.redis.set(key, 'other-token thief', 'PX', 60_000);
    expect(await lease.renew()).toBe(false);
    expect(isPophookError(lease.signal.reason, 'LOCK_LOST')).toBe(true);
    await lease.release();
    expect(await fx.redis.get(key)).toBe('other-token thief');
  });

  it('renew extends the TTL of the holder only', async () => {
    const { a, key } = setup({ ttlMs: 10_000, renewEveryMs: 60_000 });
    const lease = (await a.acquire(MB, 'a'))!;
    await fx.redis.pexpire(key, 1000);
    expect(await lease.renew()).toBe(true);
    expect(await fx.redis.pttl(key)).toBeGreaterThan(9000);
    await lease.release();
    expect(await lease.renew()).toBe(false);
  });
});
