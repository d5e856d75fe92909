// A wedged BullMQ worker after a Redis reconnect (DESIGN.md "Known traps"): Redis is killed and restarted,
// the deliver worker reconnects, and then every Redis connection of the deliver process goes silent
// (frozen in the proxy in front of Redis: a half-open link, no error, no close), so the worker waits
// forever while isRunning() stays true and deliver jobs pile up. Nobody touches the fleet: the watchdog
// (src/ops/watchdog.ts, here with a 2 s period and a 15 s stall threshold) must notice, log it, try a
// worker restart, and when that cannot help (the process's own connections are the frozen ones) exit with
// code 1 so the fleet's supervisor starts a fresh process. /readyz of the wedged process answers 503.
import { expect, it } from 'vitest';
import { freezeProcess } from './lib/freeze-process.ts';
import { httpPort, readyz } from './lib/ops-http.ts';
import { accepted, runScenario, until } from './lib/scenario.ts';
import { delivered } from './lib/world.ts';

const RECOVERING = 'watchdog: wedged, recovering';
const GAVE_UP = 'watchdog: still wedged after recovery, giving up';

it('wedged-worker: Redis of the deliver process goes silent after a reconnect; the watchdog gets it replaced', async () => {
  await runScenario(
    {
      name: 'wedged-worker',
      mailboxes: 2,
      redisProxy: true,
      watchdog: { period: '2s', stallAfter: '15s' },
      http: { host: '127.0.0.1', port: 0 },
      settleMs: 180_000,
    },
    async (world) => {
      const link = world.redisLink!;
      const deliver = world.fleet.members.find((m) => m.role === 'deliver')!;
      const wedged = deliver.current;
      await world.addMail(40);
      await until('first deliveries', () => accepted(world) >= 10, 60_000);
      const port = httpPort(wedged.logs);
      expect((await readyz(port)).status).toBe(200);

      const before = new Set(link.blocking.keys());
      await world.redis.restart({ hard: true });
      world.faults += 1;
      const fresh = () => [...link.blocking].filter(([id, q]) => !before.has(id) && q.startsWith('deliver'));
      await until('the deliver worker blocking again after the reconnect', () => fresh().length > 0, 60_000);
      // Freezing only the blocking connection is not enough (BullMQ re-opens a blocking connection that
      // outlives its timeout, and fetches on its other connection while jobs flow): the whole process's
      // Redis goes silent.
      if (freezeProcess(link, wedged.child.pid!) === 0) throw new Error('no connection frozen');
      world.faults += 1;
      const frozenTime = Date.now();
      // Unready while wedged (asked first: the process will not be up for long): it cannot write to Redis.
      const unready = await readyz(port);
      expect(unready.status).toBe(503);
      expect(unready.failing).toContain('redis');
      const addedBefore = world.added.length;
      await world.addMail(40);
      const addedWhileFrozen = world.added.slice(addedBefore);

      // The watchdog notices by itself and logs it. Until then the wedged process delivered only messages
      // whose bytes it had read before the freeze (in flight, or read ahead with them:
      // src/delivery/raw-read-ahead.ts), none of the mail added since, and it has stopped delivering.
      const noticed = await wedged.waitForLog((l) => l.msg === RECOVERING, 60_000);
      expect(noticed).toMatchObject({ check: 'workers' });
      const deliveredWhileFrozen = addedWhileFrozen.filter((a) => delivered(world, a.message.messageId));
      expect(deliveredWhileFrozen.map((a) => a.message.messageId)).toEqual([]);
      const acceptedAtNotice = accepted(world);

      // A worker restart cannot help (the process's own connections are frozen): the watchdog gives up,
      // the process exits 1 and the supervisor starts a fresh one.
      expect(await withTimeout(wedged.exited, 60_000)).toBe(1);
      expect(accepted(world)).toBe(acceptedAtNotice);
      const exitedAfterMs = Date.now() - frozenTime;
      expect(wedged.logs.some((l) => l.msg === 'worker restarted')).toBe(true);
      expect(wedged.logs.some((l) => l.msg === GAVE_UP)).toBe(true);
      await until('the supervisor restarted the deliver worker', () => deliver.current !== wedged, 10_000);
      await deliver.current.waitForLog((l) => l.msg === 'pophook started', 30_000);
      expect(deliver.restarts).toBe(1);
      const at = (msg: string) => {
        const line = wedged.logs.find((l) => l.msg === msg);
        return line ? `${Date.parse(String(line.time)) - frozenTime} ms` : 'never';
      };
      console.log(
        `wedged-worker after the freeze: /readyz 503 failing ${unready.failing.join(', ')}; watchdog ` +
          `recovering at ${at(RECOVERING)}, worker restarted at ${at('worker restarted')}, gave up at ` +
          `${at(GAVE_UP)}, exit ${exitedAfterMs} ms`,
      );
    },
  );
});

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
