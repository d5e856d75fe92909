// Webhook outages: the receiver down (connections refused) for a while, then back; slower than the
// webhook timeout for the first attempts; 429 with Retry-After, which must be honoured.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { accepted, runScenario, until } from './lib/scenario.ts';

it('receiver-down: refused connections for 10 s, then back', async () => {
  await runScenario({ name: 'receiver-down', mailboxes: 3 }, async (world) => {
    await world.addMail(120);
    await until('deliveries under way', () => accepted(world) >= 20, 60_000);
    await world.receiver.setRespond('down');
    world.faults += 1;
    await world.addMail(30);
    await sleep(10_000);
    // Nothing may be deleted while nothing can be delivered; the journal check proves it per DELE.
    await world.receiver.setRespond((request) => (request.verified ? 200 : 401));
  });
});

it('receiver-slow: the first attempt answers after the 2 s timeout', async () => {
  await runScenario({ name: 'receiver-slow', mailboxes: 3 }, async (world) => {
    await world.receiver.setRespond((request) =>
      !request.verified ? 401 : request.attempt === 1 ? { status: 200, delayMs: 3_000 } : 200,
    );
    await world.addMail(60);
  });
});

it('receiver-429: Retry-After: 2 on the first two attempts, honoured', async () => {
  const { world } = await runScenario({ name: 'receiver-429', mailboxes: 3 }, async (world) => {
    await world.receiver.setRespond((request) =>
      !request.verified ? 401 : request.attempt <= 2 ? { status: 429, headers: { 'retry-after': '2' } } : 200,
    );
    await world.addMail(60);
  });
  for (const attempts of world.receiver.byWebhookId().values()) {
    for (let i = 1; i < attempts.length; i++) {
      if (attempts[i - 1]!.status !== 429) continue;
      const gap = attempts[i]!.receivedAt.getTime() - attempts[i - 1]!.receivedAt.getTime();
      expect(gap, 'the retry after a 429 waits for Retry-After').toBeGreaterThanOrEqual(1_900);
    }
  }
});
