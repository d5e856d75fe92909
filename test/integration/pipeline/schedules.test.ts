// Job schedulers: one per configured mailbox, upserted idempotently (any number of scheduler processes),
// removed when the mailbox leaves the config.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '../../../src/queue/connections.ts';
import { PophookQueues, pollSchedulerId } from '../../../src/queue/jobs.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis(server.url, 'worker');
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe('poll schedules', () => {
  it('keeps exactly one scheduler per mailbox across repeated syncs from several processes', async () => {
    const prefix = `sched${randomBytes(3).toString('hex')}`;
    const a = new PophookQueues(redis, prefix);
    const b = new PophookQueues(redis, prefix);
    const mailboxes = [
      { id: 'support', pollIntervalMs: 60_000 },
      { id: 'invoices', pollIntervalMs: 30_000 },
    ];
    await Promise.all([a.syncSchedules(mailboxes), b.syncSchedules(mailboxes), a.syncSchedules(mailboxes)]);
    const schedulers = await a.poll.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key).sort()).toEqual([
      pollSchedulerId('invoices'),
      pollSchedulerId('support'),
    ]);
    expect(schedulers.find((s) => s.key === pollSchedulerId('invoices'))?.every).toBe(30_000);

    await b.syncSchedules([{ id: 'support', pollIntervalMs: 10_000 }]);
    const after = await a.poll.getJobSchedulers(0, -1);
    expect(after.map((s) => s.key)).toEqual([pollSchedulerId('support')]);
    expect(after[0]?.every).toBe(10_000);
    await Promise.all([a.close(), b.close()]);
  });

  it('deduplicates early polls of one mailbox', async () => {
    const prefix = `early${randomBytes(3).toString('hex')}`;
    const queues = new PophookQueues(redis, prefix);
    await Promise.all(Array.from({ length: 20 }, () => queues.requestPoll('support', 5_000)));
    await queues.requestPoll('invoices', 5_000);
    expect(await queues.poll.getDelayedCount()).toBe(2);
    await queues.close();
  });

  it('joins an early poll to one that has not started yet, never to one about to start', async () => {
    const prefix = `early${randomBytes(3).toString('hex')}`;
    const queues = new PophookQueues(redis, prefix);
    await queues.requestPoll('support', 600);
    await queues.requestPoll('support', 600);
    expect(await queues.poll.getDelayedCount()).toBe(1);
    // Past half its delay the first poll is close to starting (and reading the ledger): a second one is queued.
    await sleep(350);
    await queues.requestPoll('support', 600);
    expect(await queues.poll.getDelayedCount()).toBe(2);
    await queues.close();
  });
});
