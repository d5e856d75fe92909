// No fault at all: the fleet, the proxy and the checks on a calm day. Proves the harness sees deliveries,
// DELEs and commits, so a quiet fault scenario can't pass by measuring nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorld, type World } from './lib/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ name: 'baseline', mailboxes: 3 });
});
afterAll(async () => {
  await world?.stop();
});

it('delivers and deletes every message, with DELEs and commits in the journal', async () => {
  await world.addMail(60);
  await world.settle(60_000);
  const figures = await world.verify();
  expect(figures).toMatchObject({ lost: 0, earlyDeletes: 0, webhookIdMismatches: 0, leftOnServer: 0 });
  expect(world.journal.deles.length).toBeGreaterThanOrEqual(60);
  expect(world.journal.commits.flatMap((c) => c.uidls).length).toBeGreaterThanOrEqual(60);
});
