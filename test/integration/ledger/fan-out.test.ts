// The per-target ledger of fan-out messages and drops against a real Redis: the first routing decision
// stands, the message becomes delivered (raw deleted) only when every target is, dead (raw kept) once every
// target settled and one is dead, a delivered target is never taken back, a replay owes the dead targets
// only, and a drop is delivered-with-dropped and counted in the mailbox's meta.
import { describe, expect, it } from 'vitest';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { uniquePrefix, useRedis } from './redis-fixture.ts';

const fx = useRedis();
const MB = 'support';
const TARGETS = [
  { webhook: 'a', id: 'msg_1_a' },
  { webhook: 'b', id: 'msg_1_b' },
];

async function setup() {
  const prefix = uniquePrefix();
  const ledger = new Ledger(fx.redis, prefix);
  const keys = mailboxKeys(prefix, MB);
  await ledger.markQueued(MB, 'u1', { size: 5, webhookId: 'msg_1' });
  await fx.redis.set(keys.raw('u1'), 'bytes', 'PX', 60_000);
  return { ledger, keys };
}

describe('fan-out targets', () => {
  it('records the targets once: a later decision gets the first one back', async () => {
    const { ledger } = await setup();
    const first = await ledger.fanOut(MB, 'u1', TARGETS);
    expect(first.state).toBe('queued');
    expect(first.targets).toEqual({
      a: { state: 'pending', id: 'msg_1_a' },
      b: { state: 'pending', id: 'msg_1_b' },
    });
    const again = await ledger.fanOut(MB, 'u1', [{ webhook: 'c', id: 'msg_1_c' }]);
    expect(Object.keys(again.targets).sort()).toEqual(['a', 'b']);
    expect((await ledger.get(MB, 'u1'))?.job).toBe('msg_1_a');
  });

  it('is delivered, raw deleted, only when every target answered 2xx; a repeat 2xx changes nothing', async () => {
    const { ledger, keys } = await setup();
    await ledger.fanOut(MB, 'u1', TARGETS);
    expect(await ledger.markTarget(MB, 'u1', 'a', { state: 'delivered', status: 200, attempts: 1 })).toBe(
      'queued',
    );
    expect(await fx.redis.exists(keys.raw('u1'))).toBe(1);
    expect((await ledger.get(MB, 'u1'))?.job).toBe('msg_1_b');
    expect(await ledger.markTarget(MB, 'u1', 'a', { state: 'delivered', status: 201 })).toBe('queued');
    expect(await ledger.markTarget(MB, 'u1', 'b', { state: 'delivered', status: 204 })).toBe('delivered');
    const entry = await ledger.get(MB, 'u1');
    expect(entry).toMatchObject({ state: 'delivered', targets: { a: { state: 'delivered', status: 200 } } });
    expect(entry?.job).toBeUndefined();
    expect(await fx.redis.exists(keys.raw('u1'))).toBe(0);
  });

  it('a dead target keeps the message (raw persistent), the others go on; replay owes the dead one only', async () => {
    const { ledger, keys } = await setup();
    await ledger.fanOut(MB, 'u1', TARGETS);
    const error = { code: 'WEBHOOK_HTTP_4XX', status: 400, reason: 'the webhook answered 400' };
    expect(await ledger.markTarget(MB, 'u1', 'b', { state: 'dead', error })).toBe('queued');
    expect(await fx.redis.pttl(keys.raw('u1'))).toBe(-1);
    expect(await ledger.markTarget(MB, 'u1', 'a', { state: 'delivered', status: 200 })).toBe('dead');
    const dead = await ledger.get(MB, 'u1');
    expect(dead).toMatchObject({ state: 'dead', lastError: error, targets: { b: { state: 'dead' } } });
    expect(await ledger.markQueued(MB, 'u1', { size: 5, webhookId: 'msg_1', replay: true })).toBe('dead');
    const replayed = await ledger.get(MB, 'u1');
    expect(replayed?.targets).toMatchObject({ a: { state: 'delivered' }, b: { state: 'pending' } });
    expect(replayed?.targets?.b?.lastError).toBeUndefined();
    expect(await ledger.markTarget(MB, 'u1', 'b', { state: 'delivered', status: 200 })).toBe('delivered');
  });

  it('a delivered message is never fanned out or taken back', async () => {
    const { ledger } = await setup();
    await ledger.markDelivered(MB, 'u1', { status: 200 });
    expect(await ledger.fanOut(MB, 'u1', TARGETS)).toEqual({ state: 'delivered', targets: {} });
    expect(await ledger.markTarget(MB, 'u1', 'a', { state: 'dead', error: { code: 'X' } })).toBe('delivered');
    expect((await ledger.get(MB, 'u1'))?.state).toBe('delivered');
  });
});

describe('drop', () => {
  it('is delivered with the route, raw deleted, counted once in the meta', async () => {
    const { ledger, keys } = await setup();
    expect(await ledger.markDropped(MB, 'u1', 'newsletters')).toBe('queued');
    expect(await ledger.markDropped(MB, 'u1', 'newsletters')).toBe('delivered');
    expect(await ledger.get(MB, 'u1')).toMatchObject({ state: 'delivered', dropped: 'newsletters' });
    expect(await fx.redis.exists(keys.raw('u1'))).toBe(0);
    expect(await fx.redis.hget(keys.meta, 'dropped')).toBe('1');
  });
});
