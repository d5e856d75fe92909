// Two-target fan-out under kill -9: every mailbox routes every message to two webhooks (two receivers,
// each with its own secret), and the poll and deliver workers are killed at random moments while mail
// flows (the second receiver answers slowly, so kills land with fan-out deliveries in flight). Checked
// per target: nothing lost (each receiver got every message at least once), no DELE before that target's
// first 2xx (so none before both), one webhook-id per message and target, distinct between the targets;
// the mailboxes empty at the end. Bounded: ROUNDS rounds of BATCH messages, about 90 s.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkPromise } from './lib/invariants.ts';
import { startWorld, type World } from './lib/world.ts';

const ROUNDS = 6;
const BATCH = 12;
/** A deliver job killed mid-batch stalls until its 30 s lock runs out; a killed poll holds its lock 60 s. */
const DRAIN_TIMEOUT_MS = 150_000;

let world: World;
beforeAll(async () => {
  world = await startWorld({
    name: 'fanout',
    mailboxes: 4,
    secondReceiver: true,
    mailbox: { webhook: undefined, routes: [{ name: 'both', deliver: ['receiver', 'second'] }] },
  });
});
afterAll(async () => {
  await world?.stop();
});

it(`keeps the promise per target through ${ROUNDS} kill -9 rounds of a two-target fan-out`, async () => {
  const second = world.second!;
  await world.receiver.setRespond((request) => (request.verified ? 200 : 401));
  await second.setRespond((request) => (request.verified ? { status: 200, delayMs: 80 } : 401));
  for (let round = 0; round < ROUNDS; round++) {
    await world.addMail(BATCH);
    await sleep(300 + world.random() * 2_000);
    // One poll-worker kill (its mailbox lock then waits out its TTL); the deliver worker otherwise.
    world.kills += world.fleet.kill(round === 1 ? 'poll' : 'deliver');
  }

  await world.settle(DRAIN_TIMEOUT_MS);
  const first = await world.verify();
  const other = checkPromise({ ...world, receiver: second }, 0);
  for (const figures of [first, other]) {
    expect(figures).toMatchObject({ lost: 0, earlyDeletes: 0, webhookIdMismatches: 0 });
  }
  expect(first.leftOnServer).toBe(0);
  expect(first.kills).toBe(ROUNDS);
  // Each target has its own webhook-id for a message: the message's, `_`, the webhook's id.
  const ids = (rx: World['receiver'], webhook: string) =>
    rx.deliveries.every((d) => d.webhookId.endsWith(`_${webhook}`) && d.verified);
  expect(ids(world.receiver, 'receiver')).toBe(true);
  expect(ids(second, 'second')).toBe(true);
  console.log(
    `fanout: ${first.messages} messages, ${first.kills} kills, duplicates ${first.duplicates} + ${other.duplicates}`,
  );
  for (const member of world.fleet.members) expect(member.current.child.exitCode).toBeNull();
});
