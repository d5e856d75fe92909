// A wedged BullMQ worker after a Redis reconnect (DESIGN.md "Known traps"): Redis is killed and restarted,
// the deliver worker reconnects, and then its new connections go silent (frozen in the proxy in front of
// Redis: a half-open link, no error, no close), so the worker waits forever while isRunning() stays true
// and deliver jobs pile up. Nobody touches the fleet: the watchdog (src/ops/watchdog.ts) must
// notice that jobs wait and none are taken, and restart the worker. Its stall threshold is 5 minutes and
// not configurable, so this scenario takes about 6 minutes and runs only with FAULT_WEDGED=1.
import { it } from 'vitest';
import { freezeProcess } from '../lib/freeze-process.ts';
import { accepted, runScenario, until } from '../lib/scenario.ts';

it('wedged-worker: the deliver worker blocks forever after a Redis reconnect; the watchdog restarts it', async () => {
  await runScenario(
    { name: 'wedged-worker', mailboxes: 2, redisProxy: true, settleMs: 480_000 },
    async (world) => {
      const link = world.redisLink!;
      await world.addMail(40);
      await until('first deliveries', () => accepted(world) >= 10, 60_000);
      const before = new Set(link.blocking.keys());
      await world.redis.restart({ hard: true });
      const fresh = () => [...link.blocking].filter(([id, q]) => !before.has(id) && q.startsWith('deliver'));
      await until('the deliver worker blocking again after the reconnect', () => fresh().length > 0, 60_000);
      // Freezing only the blocking connection is not enough while jobs flow (BullMQ then fetches on its
      // other connection): the whole process's Redis goes silent.
      const deliver = world.fleet.members.find((m) => m.role === 'deliver')!;
      if (freezeProcess(link, deliver.current.child.pid!) === 0) throw new Error('no connection frozen');
      world.faults += 1;
      const frozenAt = accepted(world);
      await world.addMail(40);
      // Wedged for real: new mail is polled and queued, nothing is delivered for a while.
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      if (accepted(world) > frozenAt + 5) throw new Error('the deliver worker was not wedged');
    },
  );
});
