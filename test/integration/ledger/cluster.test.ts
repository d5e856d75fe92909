// The ledger, raw store and lock through ioredis `Cluster` against a real one-node Redis Cluster (all 16384
// slots on one node): a script touching keys of two slots fails with CROSSSLOT there, so these tests would
// catch a key that lost its mailbox hash tag. Also checks our slot computation against CLUSTER KEYSLOT.
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailboxKeys } from '../../../src/ledger/keys.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { MailboxLock } from '../../../src/ledger/lock.ts';
import { RawStore } from '../../../src/ledger/raw-store.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { keySlot } from '../../unit/ledger/key-slot.ts';
import { uniquePrefix } from './redis-fixture.ts';

let server: RedisServer;
let admin: Redis;
let cluster: Cluster;

beforeAll(async () => {
  server = await startRedisServer({
    // announce-ip: otherwise a lone node reports its address as "" in CLUSTER SLOTS.
    extraArgs: [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-announce-ip',
      '127.0.0.1',
    ],
  });
  admin = new Redis(server.url);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  const deadline = Date.now() + 10_000;
  while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('the one-node cluster did not reach cluster_state:ok');
    await sleep(50);
  }
  cluster = new Cluster([{ host: '127.0.0.1', port: server.port }]);
});

afterAll(async () => {
  cluster?.disconnect();
  admin?.disconnect();
  await server?.stop();
});

const hostile = ['plain', 'a{b}c', '}{', 'x: y z', '{other}', 'ü€'];

describe('Redis Cluster', () => {
  it('computes the same slots as CLUSTER KEYSLOT, one slot per mailbox', async () => {
    const keys = mailboxKeys('pophook', 'support');
    const all = [
      keys.ledger,
      keys.meta,
      keys.lock,
      ...hostile.flatMap((u) => [keys.raw(u), keys.rawTemp(u, 'ab')]),
    ];
    const slots = new Set<number>();
    for (const key of all) {
      const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
      expect(slot).toBe(keySlot(key));
      slots.add(slot);
    }
    expect(slots.size).toBe(1);
  });

  it('refuses a script over two slots (the check these tests rely on)', async () => {
    await expect(
      cluster.eval("return redis.call('EXISTS', KEYS[1], KEYS[2])", 2, '{a}x', '{b}x'),
    ).rejects.toThrow(/CROSSSLOT|same slot/);
  });

  it('runs every ledger transition and the raw store with hostile UIDLs', async () => {
    const prefix = uniquePrefix();
    const ledger = new Ledger(cluster, prefix);
    const raw = new RawStore(cluster, prefix, { chunkBytes: 1024 });
    for (const uidl of hostile) {
      const body = Buffer.alloc(3000, uidl);
      await raw.write('support', uidl, [body.subarray(0, 1500), body.subarray(1500)], { ttlMs: 60_000 });
      expect((await raw.readBuffer('support', uidl)).equals(body)).toBe(true);
      expect(await ledger.markQueued('support', uidl, { size: 3000, webhookId: 'w' })).toBe('absent');
      await ledger.markDead('support', uidl, { code: 'WEBHOOK_TIMEOUT', reason: 't' });
      expect(await ledger.markQueued('support', uidl, { size: 3000, webhookId: 'w', replay: true })).toBe(
        'dead',
      );
      await ledger.markDelivered('support', uidl, { status: 200 });
      expect(await raw.exists('support', uidl)).toBe(false);
    }
    expect(await ledger.counts('support')).toEqual({
      queued: 0,
      delivered: hostile.length,
      dead: 0,
      skipped: 0,
    });
    expect(await ledger.prune('support', await ledger.entries('support'), new Set(['plain']))).toHaveLength(
      hostile.length - 1,
    );
    expect(await ledger.forgetDeleted('support', ['plain'])).toBe(1);
  });

  it('locks, renews and releases', async () => {
    const lock = new MailboxLock(cluster, uniquePrefix());
    const lease = (await lock.acquire('support', 'a'))!;
    expect(await lock.acquire('support', 'b')).toBeNull();
    expect(await lease.renew()).toBe(true);
    expect(await lock.holder('support')).toMatchObject({ owner: 'a' });
    await lease.release();
    expect(await lock.holder('support')).toBeNull();
  });
});
