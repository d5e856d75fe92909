// Two schedulers and two workers on ONE mailbox (issue 3): the fleet-wide mailbox lock must keep POP3
// sessions from overlapping, and the ledger must keep every message to one delivery. The fake POP3 server
// sees every connection and times each authenticated session (test/helpers/pop3-session-timeline.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { describeProcesses } from '../../helpers/compose-mirror.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { startTimedFakePop3Server, type TimedFakePop3Server } from '../../helpers/pop3-session-timeline.ts';
import { type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil as waitFor } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'fleet';
const PASSWORD = `fleet-${randomBytes(8).toString('hex')}`;
const MESSAGES = 200;
// About 15 s on an idle 2-core machine; the margin is for a machine busy with other suites.
const WAIT_MS = 45_000;

let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let pop3: TimedFakePop3Server | undefined;
let running: PophookProcess[] = [];

beforeAll(async () => {
  [redis, receiver, dir] = await Promise.all([
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-overlap-')),
  ]);
});

afterEach(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  running = [];
  await pop3?.stop();
  pop3 = undefined;
});

afterAll(async () => {
  await Promise.all([redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeConfig(port: number): Promise<string> {
  const config = {
    redis: { url: redis.url, prefix: `overlap${randomBytes(4).toString('hex')}` },
    webhooks: { receiver: { url: receiver.url, secret: SECRET, timeout: '5s' } },
    delivery: { concurrency: 4 },
    mailboxes: {
      shared: {
        host: '127.0.0.1',
        port,
        // Loopback test server without TLS.
        tls: 'none',
        allowPlaintextAuth: true,
        username: USER,
        password: PASSWORD,
        pollInterval: '1s',
        webhook: 'receiver',
      },
    },
  };
  const path = join(dir, 'pophook.yml');
  await writeFile(path, JSON.stringify(config));
  return path;
}

function waitUntil(what: string, predicate: () => boolean, timeoutMs: number) {
  const processes = () =>
    running.map((p, i): [string, PophookProcess] => [String(p.child.spawnargs[2] ?? i), p]);
  return waitFor(what, predicate, timeoutMs, { context: () => describeProcesses(processes()) });
}

describe('two schedulers and two workers on one mailbox', () => {
  it('the session timeline sees two logged-in sessions at once as an overlap', async () => {
    pop3 = await startTimedFakePop3Server({ users: { [USER]: PASSWORD } });
    const login = async () => {
      const client = await Pop3Client.connect({ host: '127.0.0.1', port: pop3!.server.port, tls: 'none' });
      await client.login({ username: USER, password: PASSWORD, allowPlaintextAuth: true });
      return client;
    };
    const [a, b] = await Promise.all([login(), login()]);
    await Promise.all([a.quit(), b.quit()]);
    expect(pop3.spans).toHaveLength(2);
    expect(pop3.spans.every((s) => s.quit)).toBe(true);
    expect(pop3.overlaps()).toHaveLength(1);
  });

  it('never overlaps POP3 sessions and delivers 200 messages exactly once', async () => {
    pop3 = await startTimedFakePop3Server({
      users: { [USER]: PASSWORD },
      messages: smallCorpus(MESSAGES, 3).map((m) => m.raw),
    });
    const server = pop3.server;
    const config = await writeConfig(server.port);
    for (const args of [
      ['scheduler'],
      ['scheduler'],
      ['worker', '--role', 'all'],
      ['worker', '--role', 'all'],
    ]) {
      running.push(startPophook([...args, '--config', config]));
    }

    const ok = () => receiver.deliveries.filter((d) => d.status === 200);
    await waitUntil(
      `${MESSAGES} deliveries and an empty mailbox`,
      () => ok().length >= MESSAGES && server.mailbox.length === 0,
      WAIT_MS,
    );
    const codes = await Promise.all(running.map((p) => p.stop('SIGTERM')));
    expect(codes).toEqual([0, 0, 0, 0]);

    const byId = receiver.byWebhookId();
    expect(byId.size).toBe(MESSAGES);
    expect([...byId.values()].every((attempts) => attempts.length === 1)).toBe(true);
    expect(receiver.deliveries.every((d) => d.verified && d.status === 200)).toBe(true);
    expect(server.mailbox).toHaveLength(0);
    // At least the session that fetched and one that deleted, none at the same time as another (a session
    // still open counts as lasting until now).
    expect(pop3.spans.length).toBeGreaterThanOrEqual(2);
    expect(pop3.overlaps()).toEqual([]);
  }, 60_000);
});
