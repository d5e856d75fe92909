// A Redis outage is ridden out, not turned into an exit: the real `pophook run` (Node's
// --unhandled-rejections=strict) through Redis stopped and started again, with a watchdog tuned to call a
// wedge within seconds. It waits (readiness 503, one warning naming the masked URL, no line per reconnect
// attempt), resumes by itself and delivers what arrived meanwhile; at start it waits for Redis instead of
// exiting; SIGTERM while Redis is down exits 0; no uncaught error or stack trace at any point.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import {
  type LogLine,
  type PophookProcess,
  startPophook,
  writeTestConfig,
} from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'alice';
const PASSWORD = 'alice-outage-password';
const STRICT = { NODE_OPTIONS: '--unhandled-rejections=strict' };
const WARN = 40;

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let running: PophookProcess[] = [];

beforeAll(async () => {
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer({ appendonly: true, extraArgs: ['--requirepass', PASSWORD] }),
    startReceiver({ secret: SECRET }),
  ]);
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-outage-'));
  await dovecot.clearMailbox(USER);
  receiver.clear();
  await receiver.setRespond(200);
});

afterEach(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  running = [];
  await redis.resume().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

/** The Redis URL with its password, which the logs must show masked. */
const redisUrl = () => redis.url.replace('redis://', `redis://default:${PASSWORD}@`);
const masked = () => redis.url.replace('redis://', 'redis://default:****@');

async function config(): Promise<string> {
  return writeTestConfig({
    dir,
    redisUrl: redisUrl(),
    prefix: `outage${randomBytes(4).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    webhook: { retryDelay: '200ms', retryMaxDelay: '1s' },
    extra: {
      http: { host: '127.0.0.1', port: 0 },
      // Quick enough to call a wedge several times over during the outage, were an outage one.
      watchdog: { period: '1s', stallAfter: '2s' },
    },
  });
}

function start(args: string[]): PophookProcess {
  const child = startPophook(args, STRICT);
  running.push(child);
  return child;
}

const delivered = () => receiver.deliveries.filter((d) => d.status === 200).length;
const event = (name: string) => (line: LogLine) => line.event === name;
/** Output that is not a pino line: an uncaught error, a stack trace, a library's console warning. */
const stray = (p: PophookProcess) => p.text;

/** SIGTERM; the exit code with what the process printed besides its log (so a failure shows the trace). */
async function stop(p: PophookProcess): Promise<{ code: number | null; stray: string[] }> {
  const code = await p.stop('SIGTERM');
  await sleep(200);
  return { code, stray: stray(p) };
}
const CLEAN = { code: 0, stray: [] };

async function readyz(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  await response.arrayBuffer();
  return response.status;
}

describe('a Redis outage while pophook runs', () => {
  it('waits (503, one warning), does not call it a wedge, resumes and delivers, stops cleanly', async () => {
    await dovecot.addMessages(
      USER,
      smallCorpus(3, 1).map((m) => m.raw),
    );
    const pophook = start(['run', '--config', await config()]);
    const listening = await pophook.waitForLog((l) => l.msg === 'ops http listening');
    const port = listening.port as number;
    await waitUntil('the first 3 delivered', () => delivered() >= 3, 30_000);

    const before = pophook.logs.length;
    await redis.halt();
    const down = await pophook.waitForLog(event('redis-down'), 30_000);
    expect(down.url).toBe(masked());
    await dovecot.addMessages(
      USER,
      smallCorpus(3, 2).map((m) => m.raw),
    );
    expect(await readyz(port)).toBe(503);
    await sleep(8_000);
    expect(await readyz(port)).toBe(503);
    const during = pophook.logs.slice(before).filter((l) => l.level >= WARN);
    // One warning (maybe a poll session cut by the outage): not one line per reconnect attempt.
    expect(during.length).toBeLessThanOrEqual(2);
    expect(pophook.logs.filter((l) => typeof l.check === 'string' && l.level >= 50)).toEqual([]);

    await redis.resume();
    await pophook.waitForLog(event('redis-back'), 15_000);
    await waitUntil(
      'all 6 delivered and the mailbox empty',
      async () => {
        return delivered() >= 6 && (await dovecot.countMessages(USER)) === 0;
      },
      60_000,
    );
    await waitUntil('ready again', async () => (await readyz(port)) === 200, 20_000);

    expect(await stop(pophook)).toEqual(CLEAN);
    expect(pophook.logs.filter((l) => String(l.msg).startsWith('watchdog: ') && l.level >= 50)).toEqual([]);
  }, 120_000);

  it('exits 0 on SIGTERM while Redis is down, with no uncaught error after "pophook stopped"', async () => {
    const pophook = start(['run', '--config', await config()]);
    await pophook.waitForLog((l) => l.msg === 'pophook started', 30_000);
    await redis.halt();
    await pophook.waitForLog(event('redis-down'), 30_000);
    await sleep(3_000);
    const stopped = Date.now();
    expect(await stop(pophook)).toEqual(CLEAN);
    expect(Date.now() - stopped).toBeLessThan(15_000);
    await sleep(500);
    expect(stray(pophook)).toEqual([]);
  }, 60_000);
});

describe('Redis down when pophook starts', () => {
  it('waits with a line naming the masked URL, starts once Redis is up', async () => {
    await redis.halt();
    const pophook = start(['run', '--config', await config()]);
    const down = await pophook.waitForLog(event('redis-down'), 30_000);
    expect(down.url).toBe(masked());
    expect(JSON.stringify(pophook.logs)).not.toContain(PASSWORD);
    await sleep(11_000);
    expect(pophook.child.exitCode).toBeNull();
    await redis.resume();
    await pophook.waitForLog((l) => l.msg === 'pophook started', 30_000);
    expect(await stop(pophook)).toEqual(CLEAN);
  }, 60_000);

  it('SIGTERM while waiting for Redis exits 0 promptly', async () => {
    await redis.halt();
    const pophook = start(['run', '--config', await config()]);
    await pophook.waitForLog(event('redis-down'), 30_000);
    const stopped = Date.now();
    expect(await stop(pophook)).toEqual(CLEAN);
    expect(Date.now() - stopped).toBeLessThan(5_000);
  }, 30_000);
});
