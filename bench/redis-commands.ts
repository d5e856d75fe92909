// Redis commands per message, end to end: N small messages in a private Dovecot → the real `pophook run`
// (POP3 → Redis → parse → signed POST → 2xx → DELE) against a private redis-server, counted with
// `INFO commandstats` (which counts commands run inside Lua scripts too) from "idle and started" to
// "mailbox empty". A process also talks to Redis while idle (scheduled polls every second in this config,
// worker markers, the watchdog): that background is measured over IDLE_MS first and reported apart, so the
// per-message figure does not depend on how long the run took. Also msg/s and the process's CPU per message (utime + stime of /proc/<pid>/stat, all
// threads). Standalone so the bench (`npm run bench`) can fold it in later:
//
//   node --import tsx bench/redis-commands.ts [--messages 1000] [--concurrency 4]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startDovecot } from '../test/helpers/dovecot.ts';
import { smallCorpus } from '../test/helpers/mail-corpus.ts';
import { startReceiver } from '../test/helpers/receiver.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { waitUntil } from '../test/helpers/wait.ts';
import { newPrefix, SECRET, startService, writeBenchConfig } from './lib/pipeline.ts';
import { BENCH_PASSWORD, BENCH_USER } from './retrieval.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const count = Number(values.messages);
const concurrency = Number(values.concurrency);

const IDLE_MS = 10_000;

/** `cmdstat_<name>:calls=N,...` → name → calls. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

const sum = (calls: Map<string, number>): number => [...calls.values()].reduce((a, b) => a + b, 0);

/** Redis's own CPU seconds so far (INFO cpu: used_cpu_user + used_cpu_sys). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** CPU seconds (user + system, every thread) of a process so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const redisServer = await startRedisServer();
const dovecot = await startDovecot({ users: { [BENCH_USER]: BENCH_PASSWORD } });
const receiver = await startReceiver({ secret: SECRET });
const redis = new Redis(redisServer.url);
const dir = await mkdtemp(join(tmpdir(), 'pophook-redis-commands-'));
try {
  const path = await writeBenchConfig({
    dir,
    redisUrl: redisServer.url,
    prefix: newPrefix(),
    webhookUrl: receiver.url,
    dovecot,
    concurrency,
  });
  const child = await startService(['run', '--config', path]);
  try {
    // Let the first (empty) polls pass, so the count starts from a running, idle process.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleFrom = sum(await commandCalls(redis));
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const before = await commandCalls(redis);
    const idlePerSecond = ((sum(before) - idleFrom) / IDLE_MS) * 1000;
    const cpuBefore = await cpuSeconds(child.child.pid!);
    const redisCpuBefore = await redisCpuSeconds(redis);
    const started = performance.now();
    await dovecot.addMessages(
      BENCH_USER,
      smallCorpus(count, 7).map((m) => m.raw),
    );
    const poll = { intervalMs: 20 };
    await waitUntil('every delivery', () => receiver.byWebhookId().size >= count, 600_000, poll);
    await waitUntil(
      'an empty mailbox',
      async () => (await dovecot.countMessages(BENCH_USER)) === 0,
      60_000,
      poll,
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = (await cpuSeconds(child.child.pid!)) - cpuBefore;
    const redisCpu = (await redisCpuSeconds(redis)) - redisCpuBefore;
    const after = await commandCalls(redis);
    const diff = [...after]
      .map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const)
      .filter(([, calls]) => calls > 0)
      .sort((a, b) => b[1] - a[1]);
    const total = diff.reduce((all, [, calls]) => all + calls, 0);
    const background = idlePerSecond * seconds;
    console.log(`messages ${count}, deliver concurrency ${concurrency}`);
    console.log(`redis commands per message: ${(total / count).toFixed(1)} (${total} in all)`);
    console.log(
      `  of which idle background: ${(background / count).toFixed(1)} (${idlePerSecond.toFixed(0)}/s idle); ` +
        `without it: ${((total - background) / count).toFixed(1)}`,
    );
    for (const [name, calls] of diff) console.log(`  ${name.padEnd(28)} ${(calls / count).toFixed(2)}`);
    console.log(`msg/s to an empty mailbox: ${(count / seconds).toFixed(0)} (${seconds.toFixed(1)} s)`);
    console.log(`pophook CPU per message: ${((cpu / count) * 1000).toFixed(2)} ms (all threads)`);
    console.log(
      `Redis CPU per message: ${((redisCpu / count) * 1000).toFixed(3)} ms (idle background included)`,
    );
    console.log(`duplicates: ${receiver.deliveries.length - receiver.byWebhookId().size}`);
  } finally {
    await child.stop();
  }
} finally {
  redis.disconnect();
  await Promise.allSettled([receiver.stop(), dovecot.stop(), redisServer.stop()]);
  await rm(dir, { recursive: true, force: true });
}
