// kill -9 at exact points of the pipeline, FAULT_ROUNDS rounds over FAULT_MESSAGES messages in 16
// mailboxes: each round adds mail, arms one kill point (cycling through all of them, the details drawn
// from the seed), waits for the proxy or the receiver to hit it, and kills the poll or the deliver
// worker there; the supervisor restarts it. No settling between rounds: kills land on a fleet still
// recovering from the previous one. At the end the fleet must drain by itself and the promise hold.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  deliverPointReply,
  isDeliverPoint,
  KILL_POINTS,
  type KillPoint,
  pop3PointHit,
  SessionCounts,
} from './lib/kill-points.ts';
import { MESSAGES, ROUNDS } from './lib/knobs.ts';
import { startWorld, type World } from './lib/world.ts';

/** A round whose point isn't reached in this long (mailboxes locked by earlier kills) moves on. */
const ROUND_TIMEOUT_MS = 20_000;
const TOP_UP_EVERY_MS = 3_000;
const TOP_UP_MESSAGES = 4;
/** After the last kill: mailbox locks (60 s TTL) and stalled deliver jobs (30 s lock) must time out. */
const DRAIN_TIMEOUT_MS = 240_000;

let world: World;
beforeAll(async () => {
  world = await startWorld({ name: 'kill-9', mailboxes: 16 });
});
afterAll(async () => {
  await world?.stop();
});

it(`survives ${ROUNDS} kill -9 rounds over ${MESSAGES} messages`, async () => {
  const counts = new SessionCounts();
  const hits = new Map<KillPoint, number>();
  const missed = new Map<KillPoint, number>();
  let armed: { point: KillPoint; fired: () => void } | undefined;

  const strike = (point: KillPoint) => {
    armed?.fired();
    armed = undefined;
    world.kills += world.fleet.kill(isDeliverPoint(point) ? 'deliver' : 'poll');
    hits.set(point, (hits.get(point) ?? 0) + 1);
  };
  world.onPop3((event) => {
    const seen = counts.see(event);
    if (!armed || isDeliverPoint(armed.point) || !pop3PointHit(armed.point, event, seen, world.random)) {
      return 'pass';
    }
    strike(armed.point);
    return 'hold';
  });
  await world.receiver.setRespond((request) => {
    if (!request.verified) return 401;
    if (!armed || !isDeliverPoint(armed.point) || world.random() < 0.5) return 200;
    const point = armed.point;
    const { reply, killAfterMs } = deliverPointReply(point);
    armed.fired();
    armed = undefined;
    setTimeout(() => strike(point), killAfterMs);
    return reply;
  });

  const perRound = Math.ceil(MESSAGES / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const point = KILL_POINTS[round % KILL_POINTS.length]!;
    const count = Math.min(perRound, MESSAGES - world.added.length);
    if (count > 0) await world.addMail(count);
    let hit = false;
    const fired = new Promise<boolean>((resolve) => {
      armed = {
        point,
        fired: () => {
          hit = true;
          resolve(true);
        },
      };
      setTimeout(() => resolve(false), ROUND_TIMEOUT_MS).unref();
    });
    // Keep mail arriving while the round waits: with the batch already through (or its mailbox still
    // locked by an earlier kill), a point such as "after DELE" needs fresh deliveries to come round.
    const feed = (async () => {
      for (let t = TOP_UP_EVERY_MS; t < ROUND_TIMEOUT_MS && !hit; t += TOP_UP_EVERY_MS) {
        await sleep(TOP_UP_EVERY_MS);
        if (!hit) await world.addMail(TOP_UP_MESSAGES);
      }
    })();
    const struck = await fired;
    hit = true;
    await feed;
    if (!struck) {
      armed = undefined;
      missed.set(point, (missed.get(point) ?? 0) + 1);
    }
    await sleep(200 + world.random() * 1_500);
  }
  armed = undefined;

  await world.settle(DRAIN_TIMEOUT_MS);
  const figures = await world.verify();
  console.log(
    `kill-9 points hit: ${JSON.stringify(Object.fromEntries(hits))}, missed: ${JSON.stringify(Object.fromEntries(missed))}`,
  );
  expect(figures).toMatchObject({ lost: 0, earlyDeletes: 0, webhookIdMismatches: 0, leftOnServer: 0 });
  expect(figures.kills).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));
  // Every process came back by itself and is running.
  for (const member of world.fleet.members) expect(member.current.child.exitCode).toBeNull();
});
