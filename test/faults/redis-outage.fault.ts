// A Redis outage of 2 minutes mid-run, ridden out: Redis stopped while deliveries are under way and mail
// keeps arriving, started again after OUTAGE_MS. No supervisor restart is allowed (every process stays
// up), /readyz answers 503 meanwhile and 200 afterwards, the watchdog (5 s period, 20 s stall threshold:
// short enough to misfire many times over) calls no wedge, everything is delivered afterwards, and each
// process's log during the outage stays bounded: one warning, a reminder every 30 s, nothing per
// reconnect attempt. Every process runs with --unhandled-rejections=strict and must print nothing but
// its JSON log lines.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { LogLine } from '../helpers/pophook-process.ts';
import { httpPort, readyz } from './lib/ops-http.ts';
import { accepted, runScenario, until } from './lib/scenario.ts';

const OUTAGE_MS = 120_000;
/** Per process during the outage: the warning, 4 reminders, and a poll session or two cut by it. */
const MAX_LINES_PER_PROCESS = 10;

it('redis-outage: Redis down for 2 minutes mid-run; nobody exits, nothing is lost, the log stays quiet', async () => {
  await runScenario(
    {
      name: 'redis-outage',
      mailboxes: 4,
      watchdog: { period: '5s', stallAfter: '20s' },
      http: { host: '127.0.0.1', port: 0 },
      env: { NODE_OPTIONS: '--unhandled-rejections=strict' },
      settleMs: 120_000,
    },
    async (world) => {
      const processes = world.fleet.members.map((m) => ({ role: m.role, p: m.current }));
      await world.addMail(150);
      await until('deliveries under way', () => accepted(world) >= 40, 60_000);

      await world.redis.halt();
      // Counted from Redis's exit: a Redis shutting down (AOF flushed) still serves for a moment.
      const haltAt = Date.now();
      world.faults += 1;
      await world.addMail(50);
      await sleep(OUTAGE_MS / 2);
      for (const { role, p } of processes) {
        expect((await readyz(httpPort(p.logs))).status, role).toBe(503);
      }
      await sleep(Math.max(0, haltAt + OUTAGE_MS - Date.now()));
      const resumeAt = Date.now();
      await world.redis.resume();

      for (const { p } of processes) await p.waitForLog((l) => l.event === 'redis-back', 30_000);
      await until(
        'all ready again',
        async () => {
          const answers = await Promise.all(processes.map(({ p }) => readyz(httpPort(p.logs))));
          return answers.every((a) => a.status === 200);
        },
        90_000,
      );

      const counts = processes.map(({ role, p }) => {
        const during = p.logs.filter((l) => between(l, haltAt, resumeAt));
        return {
          role,
          lines: during.length,
          warnings: during.filter((l) => l.level >= 40).length,
          reminders: during.filter((l) => l.event === 'redis-still-down').length,
          // Lines that are not about the outage itself (a poll session cut by it, say), by message.
          others: [...new Set(during.filter((l) => l.event === undefined).map((l) => String(l.msg)))],
        };
      });
      console.log(
        `redis-outage: log lines during the ${OUTAGE_MS / 1000} s outage: ` +
          counts
            .map(
              (c) =>
                `${c.role} ${c.lines} (${c.warnings} warn+, ${c.reminders} reminders; ${c.others.join(', ')})`,
            )
            .join('; '),
      );
      for (const { role, p } of processes) {
        expect(
          p.logs.filter((l) => l.event === 'redis-down'),
          role,
        ).toHaveLength(1);
        expect(
          p.logs.filter((l) => String(l.msg).startsWith('watchdog: ')),
          role,
        ).toEqual([]);
        expect(p.text, role).toEqual([]);
      }
      for (const c of counts) {
        expect(c.lines, c.role).toBeLessThanOrEqual(MAX_LINES_PER_PROCESS);
        expect(c.reminders, c.role).toBeGreaterThanOrEqual(3);
        expect(c.reminders, c.role).toBeLessThanOrEqual(4);
      }
    },
  ).then(({ world }) => {
    for (const member of world.fleet.members) expect(member.restarts, member.role).toBe(0);
  });
}, 420_000);

function between(line: LogLine, from: number, to: number): boolean {
  const at = Date.parse(String(line.time));
  return at >= from && at < to;
}
