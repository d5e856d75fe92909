// The ledger against a real Redis: every transition and refusal, removal rules, and the races that
// could break the promise (redelivery after a lost ack, prune vs delivery, dead vs delivered).
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const MB = 'support';
const queued = { size: 10, webhookId: 'msg_abc' };

function setup() {
  const prefix = uniquePrefix();
  let clock = 1_700_000_000_000;
  const ledger = new Ledger(fx.redis, prefix, { now: () => clock++ });
  return { prefix, ledger, keys: mailboxKeys(prefix, MB) };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isPophookError(error) ? error.code : 'not-a-pophook-error';
  }
  return undefined;
}

describe('transitions', () => {
  it('absent → queued → delivered, with the raw deleted', async () => {
    const { ledger, keys } = setup();
    expect(await ledger.get(MB, 'u1')).toBeUndefined();
    expect(await ledger.markQueued(MB, 'u1', queued)).toBe('absent');
    expect(await ledger.get(MB, 'u1')).toEqual({ state: 'queued', since: 1_700_000_000_000, ...queued });
    await fx.redis.set(keys.raw('u1'), 'bytes', 'PX', 60_000);
    expect(await ledger.markDelivered(MB, 'u1', { status: 204, attempts: 2 })).toBe('queued');
    const entry = await ledger.get(MB, 'u1');
    expect(entry).toMatchObject({ state: 'delivered', status: 204, attempts: 2, webhookId: 'msg_abc' });
    expect(entry?.deliveredAt).toBe(entry?.since);
    expect(await fx.redis.exists(keys.raw('u1'))).toBe(0);
  });

  it('queued → queued keeps `since` and takes the new size', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    expect(await ledger.markQueued(MB, 'u1', { ...queued, size: 11 })).toBe('queued');
    expect(await ledger.get(MB, 'u1')).toMatchObject({ since: 1_700_000_000_000, size: 11 });
  });

  it('refuses delivered → queued (a redelivery after a lost ack) and delivered → dead', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    await ledger.markDelivered(MB, 'u1', { status: 200 });
    const before = await ledger.get(MB, 'u1');
    expect(await ledger.markQueued(MB, 'u1', { ...queued, replay: true })).toBe('delivered');
    expect(await ledger.markDead(MB, 'u1', { code: 'WEBHOOK_HTTP_4XX', status: 410, reason: 'gone' })).toBe(
      'delivered',
    );
    expect(await ledger.get(MB, 'u1')).toEqual(before);
  });

  it('markDelivered is idempotent and keeps the first deliveredAt', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    await ledger.markDelivered(MB, 'u1', { status: 200 });
    const first = await ledger.get(MB, 'u1');
    expect(await ledger.markDelivered(MB, 'u1', { status: 202 })).toBe('delivered');
    expect(await ledger.get(MB, 'u1')).toEqual(first);
  });

  it('markDelivered from absent records the delivery so the next session DELEs', async () => {
    const { ledger } = setup();
    expect(await ledger.markDelivered(MB, 'gone', { status: 200 })).toBe('absent');
    expect(await ledger.get(MB, 'gone')).toMatchObject({ state: 'delivered', status: 200 });
  });

  it('queued → dead keeps the raw without a TTL and stores the error with a capped reason', async () => {
    const { ledger, keys } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    await fx.redis.set(keys.raw('u1'), 'bytes', 'PX', 60_000);
    const reason = 'x'.repeat(1000);
    expect(
      await ledger.markDead(MB, 'u1', { code: 'WEBHOOK_HTTP_4XX', status: 422, reason, attempts: 1 }),
    ).toBe('queued');
    const entry = await ledger.get(MB, 'u1');
    expect(entry).toMatchObject({
      state: 'dead',
      attempts: 1,
      lastError: { code: 'WEBHOOK_HTTP_4XX', status: 422 },
    });
    expect(entry?.lastError?.reason).toHaveLength(160);
    expect(await fx.redis.pttl(keys.raw('u1'))).toBe(-1);
  });

  it("dead keeps the receiver's status line and at most 1 KiB of its body, whole characters only", async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    const body = `${'b'.repeat(1023)}€€`;
    await ledger.markDead(MB, 'u1', {
      code: 'WEBHOOK_HTTP_4XX',
      status: 400,
      statusText: `Bad Request ${'t'.repeat(500)}`,
      reason: 'the webhook answered 400',
      body,
      attempts: 3,
    });
    const entry = await ledger.get(MB, 'u1');
    expect(entry).toMatchObject({ state: 'dead', attempts: 3, size: queued.size });
    expect(entry?.lastError?.statusText).toMatch(/^Bad Request t+$/);
    expect(entry?.lastError?.statusText).toHaveLength(100);
    expect(entry?.lastError?.body).toBe('b'.repeat(1023));
  });

  it('dead from absent records the size it is given (a message over maxMessageSize)', async () => {
    const { ledger } = setup();
    await ledger.markDead(MB, 'u1', { code: 'MESSAGE_TOO_LARGE', reason: 'big', size: 9_000_000 });
    expect(await ledger.get(MB, 'u1')).toMatchObject({ state: 'dead', size: 9_000_000 });
    expect((await ledger.get(MB, 'u1'))?.lastError).toEqual({ code: 'MESSAGE_TOO_LARGE', reason: 'big' });
  });

  it('dead stays dead without replay; replay → queued → delivered', async () => {
    const { ledger, keys } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    await fx.redis.set(keys.raw('u1'), 'bytes', 'PX', 60_000);
    await ledger.markDead(MB, 'u1', { code: 'WEBHOOK_TIMEOUT', reason: 'timeout' });
    expect(await ledger.markQueued(MB, 'u1', queued)).toBe('dead');
    expect((await ledger.get(MB, 'u1'))?.state).toBe('dead');
    expect(await ledger.markQueued(MB, 'u1', { ...queued, replay: true })).toBe('dead');
    expect((await ledger.get(MB, 'u1'))?.state).toBe('queued');
    expect(await fx.redis.get(keys.raw('u1'))).toBe('bytes');
    expect(await ledger.markDelivered(MB, 'u1', { status: 200 })).toBe('queued');
    expect(await ledger.get(MB, 'u1')).toMatchObject({ state: 'delivered' });
    expect((await ledger.get(MB, 'u1'))?.lastError).toBeUndefined();
    expect(await fx.redis.exists(keys.raw('u1'))).toBe(0);
  });

  it('markDead from absent records a dead letter (its raw, if any, is kept)', async () => {
    const { ledger } = setup();
    expect(await ledger.markDead(MB, 'u1', { code: 'RAW_MISSING', reason: 'flushed' })).toBe('absent');
    expect((await ledger.get(MB, 'u1'))?.state).toBe('dead');
  });

  it('still works after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u1', queued);
    await fx.redis.script('FLUSH');
    expect(await ledger.markDelivered(MB, 'u1', { status: 200 })).toBe('queued');
  });
});

describe('many messages in one script', () => {
  it('markQueuedMany replies each previous state, names the job, and takes nothing back', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'was-queued', queued);
    await ledger.markQueued(MB, 'was-delivered', queued);
    await ledger.markDelivered(MB, 'was-delivered', { status: 200 });
    await ledger.markDead(MB, 'was-dead', { code: 'WEBHOOK_HTTP_4XX', reason: 'no' });
    const messages = ['new', 'was-queued', 'was-delivered', 'was-dead'].map((uidl) => ({
      uidl,
      size: 20,
      webhookId: `msg_${uidl}`,
    }));
    expect(await ledger.markQueuedMany(MB, messages, { job: 'msg_new-b4' })).toEqual([
      'absent',
      'queued',
      'delivered',
      'dead',
    ]);
    const entries = await ledger.entries(MB);
    expect(entries.get('new')).toMatchObject({ state: 'queued', size: 20, job: 'msg_new-b4' });
    expect(entries.get('was-queued')).toMatchObject({ state: 'queued', size: 20, job: 'msg_new-b4' });
    expect(entries.get('was-delivered')?.state).toBe('delivered');
    expect(entries.get('was-dead')?.state).toBe('dead');
  });

  it('markDeliveredMany records each 2xx, deletes each raw and keeps a first deliveredAt', async () => {
    const { ledger, keys } = setup();
    await ledger.markQueuedMany(MB, [
      { uidl: 'a', ...queued },
      { uidl: 'b', ...queued },
    ]);
    await ledger.markDelivered(MB, 'c', { status: 200 });
    const firstC = (await ledger.get(MB, 'c'))?.deliveredAt;
    for (const uidl of ['a', 'b', 'c']) await fx.redis.set(keys.raw(uidl), 'bytes');
    const previous = await ledger.markDeliveredMany(MB, [
      { uidl: 'a', status: 200, attempts: 1 },
      { uidl: 'b', status: 204, attempts: 3 },
      { uidl: 'c', status: 200 },
    ]);
    expect(previous).toEqual(['queued', 'queued', 'delivered']);
    expect(await ledger.get(MB, 'a')).toMatchObject({ state: 'delivered', status: 200, attempts: 1 });
    expect(await ledger.get(MB, 'b')).toMatchObject({ state: 'delivered', status: 204, attempts: 3 });
    expect((await ledger.get(MB, 'c'))?.deliveredAt).toBe(firstC);
    expect(await fx.redis.exists(keys.raw('a'), keys.raw('b'), keys.raw('c'))).toBe(0);
  });
});

describe('removal', () => {
  async function oneOfEach(ledger: Ledger) {
    for (const uidl of ['q', 'd', 'x']) await ledger.markQueued(MB, uidl, queued);
    await ledger.markDelivered(MB, 'd', { status: 200 });
    await ledger.markDead(MB, 'x', { code: 'WEBHOOK_HTTP_4XX', status: 400, reason: 'bad' });
  }

  it('forgetDeleted removes only entries still delivered', async () => {
    const { ledger } = setup();
    await oneOfEach(ledger);
    expect(await ledger.forgetDeleted(MB, ['q', 'd', 'x', 'never'])).toBe(1);
    expect([...(await ledger.entries(MB)).keys()].sort()).toEqual(['q', 'x']);
  });

  it('prune removes unlisted delivered entries and keeps unlisted queued and dead ones with their raw', async () => {
    const { ledger, keys } = setup();
    await oneOfEach(ledger);
    await ledger.markQueued(MB, 'listed-d', queued);
    await ledger.markDelivered(MB, 'listed-d', { status: 200 });
    await fx.redis.set(keys.raw('q'), 'bytes');
    await fx.redis.set(keys.raw('x'), 'bytes');
    expect(await ledger.prune(MB, await ledger.entries(MB), new Set(['listed-d']))).toEqual(['d']);
    expect([...(await ledger.entries(MB)).keys()].sort()).toEqual(['listed-d', 'q', 'x']);
    expect(await fx.redis.exists(keys.raw('q'), keys.raw('x'))).toBe(2);
  });

  it('forgets thousands of UIDLs in batches', async () => {
    const { ledger } = setup();
    const uidls = Array.from({ length: 1200 }, (_, i) => `m${i}`);
    await Promise.all(uidls.map((u) => ledger.markDelivered(MB, u, { status: 200 })));
    expect(await ledger.forgetDeleted(MB, uidls)).toBe(1200);
    expect(await ledger.counts(MB)).toEqual({ queued: 0, delivered: 0, dead: 0, skipped: 0 });
  });
});

describe('races', () => {
  it('200 parallel markQueued and markDelivered on one uidl end in delivered', async () => {
    const { ledger, prefix } = setup();
    const other = new Ledger(fx.client(), prefix);
    const calls = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? other.markQueued(MB, 'u', queued) : ledger.markDelivered(MB, 'u', { status: 200 }),
    );
    await Promise.all(calls);
    expect((await ledger.get(MB, 'u'))?.state).toBe('delivered');
    expect(await ledger.markQueued(MB, 'u', queued)).toBe('delivered');
  });

  it('prune racing markDelivered never loses a delivery nor keeps a stale one', async () => {
    const { ledger, prefix } = setup();
    const worker = new Ledger(fx.client(), prefix);
    const uidls = Array.from({ length: 100 }, (_, i) => `r${i}`);
    for (const u of uidls) await ledger.markQueued(MB, u, queued);
    const listed = new Set(uidls.filter((_, i) => i % 2 === 0));
    const [pruned] = await Promise.all([
      ledger.entries(MB).then((entries) => ledger.prune(MB, entries, listed)),
      Promise.all(uidls.map((u) => worker.markDelivered(MB, u, { status: 200 }))),
    ]);
    const after = await ledger.entries(MB);
    for (const u of uidls) {
      // Every delivery is on record unless a prune removed it after it became delivered and unlisted.
      if (pruned.includes(u)) expect(listed.has(u)).toBe(false);
      else expect(after.get(u)?.state).toBe('delivered');
    }
    await ledger.prune(MB, await ledger.entries(MB), listed); // the next session's prune catches what turned delivered after the first
    expect([...(await ledger.entries(MB)).keys()].every((u) => listed.has(u))).toBe(true);
  });

  it('200 parallel markDead and markDelivered on one uidl end in delivered', async () => {
    const { ledger } = setup();
    await ledger.markQueued(MB, 'u', queued);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? ledger.markDead(MB, 'u', { code: 'WEBHOOK_TIMEOUT', reason: 't' })
          : ledger.markDelivered(MB, 'u', { status: 200 }),
      ),
    );
    expect((await ledger.get(MB, 'u'))?.state).toBe('delivered');
  });
});

describe('reading', () => {
  it('counts, lists dead letters, and reads a big ledger whole over several HSCAN replies', async () => {
    const { ledger } = setup();
    // 2,500 entries: a hash table in Redis (not a listpack, which HSCAN returns in one reply), so at least
    // three replies of about 1,000 fields.
    const messages = Array.from({ length: 2500 }, (_, i) => ({ uidl: `m${i}`, ...queued }));
    await ledger.markQueuedMany(MB, messages, { job: 'j1' });
    await ledger.markDelivered(MB, 'm1', { status: 200 });
    await ledger.markDead(MB, 'm2', { code: 'WEBHOOK_HTTP_4XX', status: 404, reason: 'nope' });
    const entries = await ledger.entries(MB);
    expect([...entries.keys()].sort()).toEqual(messages.map((m) => m.uidl).sort());
    expect(entries.get('m1')?.state).toBe('delivered');
    expect(entries.get('m2')?.state).toBe('dead');
    expect(entries.get('m2499')).toMatchObject({ state: 'queued', job: 'j1', size: 10 });
    expect(await ledger.counts(MB)).toEqual({ queued: 2498, delivered: 1, dead: 1, skipped: 0 });
    const dead = await ledger.listDead(MB);
    expect(dead.map((d) => d.uidl)).toEqual(['m2']);
    expect(dead[0]?.entry.lastError).toEqual({ code: 'WEBHOOK_HTTP_4XX', status: 404, reason: 'nope' });
  });

  it('keeps hostile UIDLs verbatim as fields', async () => {
    const { ledger } = setup();
    const uidls = ['a{b}c', 'x: y z', '{support}', '*', 'ü€'];
    for (const u of uidls) await ledger.markQueued(MB, u, queued);
    expect([...(await ledger.entries(MB)).keys()].sort()).toEqual([...uidls].sort());
  });

  it('refuses a corrupt entry with LEDGER_CORRUPT, in reads and in every transition', async () => {
    const { ledger, keys } = setup();
    await fx.redis.hset(keys.ledger, 'bad', 'not json', 'worse', '{"state":"deleted","since":1}');
    expect(await codeOf(ledger.get(MB, 'bad'))).toBe('LEDGER_CORRUPT');
    expect(await codeOf(ledger.entries(MB))).toBe('LEDGER_CORRUPT');
    for (const uidl of ['bad', 'worse']) {
      expect(await codeOf(ledger.markQueued(MB, uidl, queued))).toBe('LEDGER_CORRUPT');
      expect(await codeOf(ledger.markDelivered(MB, uidl, { status: 200 }))).toBe('LEDGER_CORRUPT');
      expect(await codeOf(ledger.markDead(MB, uidl, { code: 'X', reason: 'y' }))).toBe('LEDGER_CORRUPT');
    }
    expect(await ledger.forgetDeleted(MB, ['bad'])).toBe(0);
  });

  it('keeps a typical entry under 200 bytes of Redis memory', async () => {
    const { ledger, keys } = setup();
    const n = 1000;
    for (let i = 0; i < n; i += 1) {
      await ledger.markQueued(MB, `0000${i}5f3a9c1e`, { size: 48_213, webhookId: `msg_2ZBvXkq3m0b8T1${i}` });
    }
    const bytes = Number(await fx.redis.memory('USAGE', keys.ledger, 'SAMPLES', '0'));
    console.info(`ledger: ${(bytes / n).toFixed(0)} bytes per queued entry (${n} entries)`);
    expect(bytes / n).toBeLessThan(200);
  });
});
