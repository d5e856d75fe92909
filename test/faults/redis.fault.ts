// Redis faults under load: a hard kill (SIGKILL) and restart with AOF (appendfsync always), twice, at
// seeded moments; and FLUSHALL, which loses the ledger, the raw messages, the queues and the job
// schedulers at once (redelivery allowed, loss not; the scheduler re-creates its schedules by itself).
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { it } from 'vitest';
import { accepted, runScenario, until } from './lib/scenario.ts';

it('redis-kill-restart: SIGKILL and restart with AOF, twice, mid-flow', async () => {
  await runScenario({ name: 'redis-kill-restart', mailboxes: 4, settleMs: 120_000 }, async (world) => {
    await world.addMail(200);
    for (const share of [0.15, 0.5]) {
      await until('deliveries under way', () => accepted(world) >= share * 200, 60_000);
      await sleep(world.random() * 500);
      await world.redis.restart({ hard: true });
      world.faults += 1;
    }
    await world.addMail(50);
  });
});

it('redis-flushall: everything in Redis gone at once, mid-flow', async () => {
  await runScenario({ name: 'redis-flushall', mailboxes: 4, settleMs: 150_000 }, async (world) => {
    await world.addMail(200);
    await until('deliveries under way', () => accepted(world) >= 60, 60_000);
    const client = new Redis(world.redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    world.faults += 1;
    await world.addMail(50);
  });
});
