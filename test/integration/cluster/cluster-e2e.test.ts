// End to end on a three-master Redis Cluster: the real `pophook run` with `redis.cluster: true` and three
// deliver shards, two Dovecot mailboxes, a verifying receiver. Every message must arrive exactly once and
// be deleted, every key must carry the deployment prefix and a hash tag (a multi-key script over two slots
// would fail with CROSSSLOT), and the keys must really spread over more than one master. The cluster
// only lets an ACL user in, so the URL's credentials must reach every node, not just the seed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { deliverShardOf } from '../../../src/queue/layout.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisCluster, startRedisCluster } from '../../helpers/redis-cluster.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
// Chosen so the two mailboxes use different deliver shards (alice 1, bob 0 of 3): checked below.
const USERS = { alice: 'alice-cluster-pw', bob: 'bob-cluster-pw' };
const PER_MAILBOX = 25;
const SHARDS = 3;
// The cluster's default user is off: pophook must log in to every node it discovers as this ACL user.
const ACL_PASSWORD = `acl-${randomBytes(6).toString('hex')}`;

let cluster: RedisCluster;
let dovecot: DovecotServer;
let receiver: Receiver;
let dir: string;
let prefix: string;
let configPath: string;
const running: PophookProcess[] = [];

beforeAll(async () => {
  [cluster, dovecot, receiver] = await Promise.all([
    startRedisCluster({ masters: 3, acl: { user: 'pophook', password: ACL_PASSWORD } }),
    startDovecot({ users: USERS }),
    startReceiver({ secret: SECRET }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'pophook-cluster-'));
  prefix = `cl${randomBytes(4).toString('hex')}`;
  configPath = await writeConfig();
}, 30_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.all([cluster?.stop(), dovecot?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeConfig(): Promise<string> {
  const caPath = join(dir, 'ca.pem');
  await writeFile(caPath, dovecot.caPem);
  const mailbox = (username: string) => ({
    host: '127.0.0.1',
    port: dovecot.pop3Port,
    tls: 'starttls',
    ca: caPath,
    username,
    password: USERS[username as keyof typeof USERS],
    pollInterval: '1s',
    webhook: 'receiver',
  });
  const config = {
    redis: { url: cluster.url, prefix, cluster: true },
    webhooks: { receiver: { url: receiver.url, secret: SECRET, timeout: '5s', retryDelay: '200ms' } },
    delivery: { concurrency: 4, shards: SHARDS },
    mailboxes: { alice: mailbox('alice'), bob: mailbox('bob') },
  };
  const path = join(dir, 'pophook.yml');
  await writeFile(path, stringify(config));
  return path;
}

const remaining = async () => (await dovecot.countMessages('alice')) + (await dovecot.countMessages('bob'));

describe('pophook run on a three-master Redis Cluster', () => {
  it('delivers 50 messages of two mailboxes over three shards exactly once and deletes them', async () => {
    expect(deliverShardOf('alice', SHARDS)).not.toBe(deliverShardOf('bob', SHARDS));
    await dovecot.addMessages(
      'alice',
      smallCorpus(PER_MAILBOX, 1).map((m) => m.raw),
    );
    await dovecot.addMessages(
      'bob',
      smallCorpus(PER_MAILBOX, 2).map((m) => m.raw),
    );
    const pophook = startPophook(['run', '--config', configPath]);
    running.push(pophook);

    const total = 2 * PER_MAILBOX;
    const ok = () => receiver.deliveries.filter((d) => d.status === 200);
    await waitUntil(
      '50 deliveries and empty mailboxes',
      async () => ok().length >= total && (await remaining()) === 0,
      30_000,
    );
    // Two more poll intervals: nothing is delivered again.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(receiver.deliveries).toHaveLength(total);
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(new Set(ok().map((d) => d.webhookId)).size).toBe(total);
    const byMailbox = new Map<string, number>();
    for (const d of ok()) {
      const mailbox = (d.json as { mailbox: string }).mailbox;
      byMailbox.set(mailbox, (byMailbox.get(mailbox) ?? 0) + 1);
    }
    expect(Object.fromEntries(byMailbox)).toEqual({ alice: PER_MAILBOX, bob: PER_MAILBOX });

    // Each mailbox's deliveries ran on its own shard's queue.
    const queues = new Set(
      pophook.logs.filter((l) => l.msg === 'deliveries').map((l) => `${l.mailbox} ${l.queue}`),
    );
    expect([...queues].sort()).toEqual([
      `alice deliver-${deliverShardOf('alice', SHARDS)}`,
      `bob deliver-${deliverShardOf('bob', SHARDS)}`,
    ]);
    const errors = pophook.logs.filter((l) => /error/.test(l.msg) || /CROSSSLOT/.test(JSON.stringify(l)));
    expect(errors).toEqual([]);

    // Stopped first: a running process adds and removes keys (locks, poll jobs) between the two reads.
    expect(await pophook.stop('SIGTERM')).toBe(0);
    const keysByNode = await cluster.keysByNode();
    const dbsizes = await cluster.dbsizes();
    expect(dbsizes).toEqual(keysByNode.map((keys) => keys.length));
    expect(dbsizes.filter((n) => n > 0).length).toBeGreaterThan(1);
    for (const key of keysByNode.flat()) {
      expect(key.startsWith(`${prefix}:{`), key).toBe(true);
    }
  }, 45_000);

  it('pophook check sees the cluster, its policy on every master, and jobs left under the old prefix', async () => {
    // A job left by a version before the hash-tagged prefixes; the key has no tag, so it goes to the
    // master owning the slot of the whole key.
    const oldWait = `${prefix}:bull:deliver:wait`;
    const node = new Redis(await ownerOf(oldWait));
    await node.lpush(oldWait, 'job-1').finally(() => node.disconnect());
    const check = startPophook(['check', '--json', '--config', configPath]);
    running.push(check);
    await check.exited;
    const results = JSON.parse(check.text.join('\n')) as Array<{
      check: string;
      ok: boolean;
      detail: string;
    }>;
    const byName = new Map(results.map((r) => [r.check, r]));
    expect(byName.get('redis')).toMatchObject({ ok: true, detail: expect.stringContaining('cluster') });
    expect(byName.get('redis maxmemory-policy')).toMatchObject({ ok: true });
    expect(byName.get('redis queues')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`${prefix}:bull:deliver (1)`),
    });
  }, 20_000);
});

/** The URL of the master serving a key's slot (CLUSTER KEYSLOT, then CLUSTER SLOTS). */
async function ownerOf(key: string): Promise<string> {
  const admin = new Redis(cluster.nodes[0]!.url);
  try {
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return cluster.nodes.find((node) => node.port === range[2][1])!.url;
  } finally {
    admin.disconnect();
  }
}
