// The lease's timers against a scripted fake client: renewal cadence, loss on a refused renewal, loss when
// Redis fails or hangs past the TTL, release. Redis behaviour itself is in test/integration/ledger.
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { MailboxLock } from '../../../src/ledger/lock.ts';

type Reply = () => Promise<unknown>;

/** Answers SET NX with OK and each script call with the next scripted reply (default: success). */
function fakeRedis(renewReply: Reply = async () => 1) {
  const calls: string[] = [];
  const client: Record<string, unknown> = {
    set: async () => 'OK',
    defineCommand(name: string) {
      client[name] = (...args: unknown[]) => {
        calls.push(name);
        return name === 'pophook_lockRenew' ? renewReply() : Promise.resolve(args.length > 0 ? 1 : 0);
      };
    },
  };
  return {
    redis: client as unknown as Redis,
    calls,
    renewals: () => calls.filter((c) => c.endsWith('Renew')),
  };
}

const lostCode = (signal: AbortSignal): string | undefined =>
  isPophookError(signal.reason) ? signal.reason.code : undefined;

describe('lease timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews every ttl/3 and stays valid while renewals succeed', async () => {
    const fake = fakeRedis();
    const lease = (await new MailboxLock(fake.redis, 'p', { ttlMs: 3000 }).acquire('mb', 'me'))!;
    await vi.advanceTimersByTimeAsync(10_500);
    expect(fake.renewals()).toHaveLength(10);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it('aborts with LOCK_LOST when a renewal finds another value', async () => {
    const fake = fakeRedis(async () => 0);
    const lease = (await new MailboxLock(fake.redis, 'p', { ttlMs: 3000 }).acquire('mb', 'me'))!;
    await vi.advanceTimersByTimeAsync(1000);
    expect(lostCode(lease.signal)).toBe('LOCK_LOST');
    expect(await lease.renew()).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.renewals()).toHaveLength(1);
  });

  it('aborts only once the TTL has passed without a successful renewal when Redis errors', async () => {
    const fake = fakeRedis(async () => {
      throw new Error('connection lost');
    });
    const lease = (await new MailboxLock(fake.redis, 'p', { ttlMs: 3000 }).acquire('mb', 'me'))!;
    await vi.advanceTimersByTimeAsync(2999);
    expect(fake.renewals().length).toBeGreaterThanOrEqual(2);
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lostCode(lease.signal)).toBe('LOCK_LOST');
    expect(await lease.renew()).toBe(false);
  });

  it('aborts at the TTL when a renewal never answers', async () => {
    const fake = fakeRedis(() => new Promise(() => {}));
    const lease = (await new MailboxLock(fake.redis, 'p', { ttlMs: 3000 }).acquire('mb', 'me'))!;
    await vi.advanceTimersByTimeAsync(3000);
    expect(lostCode(lease.signal)).toBe('LOCK_LOST');
    expect(fake.renewals()).toHaveLength(1); // no pile-up behind the hung call
  });

  it('stops renewing after release, and releases once', async () => {
    const fake = fakeRedis();
    const lease = (await new MailboxLock(fake.redis, 'p', { ttlMs: 3000 }).acquire('mb', 'me'))!;
    await Promise.all([lease.release(), lease.release()]);
    await lease.release();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.calls).toEqual(['pophook_lockRelease']);
    expect(lease.signal.aborted).toBe(false);
    expect(await lease.renew()).toBe(false);
  });
});
