// End to end with real parts: Dovecot, a private redis-server, a receiver verifying every signature with
// the official standardwebhooks package, and the real `pophook` command as a child process.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PayloadV1 } from '../../../src/payload/index.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { mixedCorpus, smallCorpus } from '../../helpers/mail-corpus.ts';
import { payloadValidator } from '../../helpers/payload-schema.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'alice';
const PASSWORD = 'alice-e2e-password';

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let running: PophookProcess[] = [];
let validatePayload: ValidateFunction;

beforeAll(async () => {
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
  ]);
  validatePayload = await payloadValidator();
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-e2e-'));
  await dovecot.clearMailbox(USER);
  receiver.clear();
  await receiver.setRespond((request) => (request.verified ? 200 : 401));
});

afterEach(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  running = [];
  await rm(dir, { recursive: true, force: true });
});

async function config(overrides: Partial<Parameters<typeof writeTestConfig>[0]> = {}): Promise<string> {
  return writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix: `e2e${randomBytes(4).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    webhook: { retryDelay: '200ms', retryMaxDelay: '1s' },
    ...overrides,
  });
}

function start(args: string[]): PophookProcess {
  const child = startPophook(args);
  running.push(child);
  return child;
}

const delivered = (r: Receiver) => r.deliveries.filter((d) => d.status === 200);

describe('pophook run against Dovecot, Redis and a verifying receiver', () => {
  it('delivers 200 mixed messages exactly once with correct payloads and empties the mailbox', async () => {
    const corpus = mixedCorpus(200, 42);
    await dovecot.addMessages(
      USER,
      corpus.map((m) => m.raw),
    );
    const pophook = start(['run', '--config', await config()]);

    await waitUntil(
      '200 deliveries and an empty mailbox',
      async () => {
        return delivered(receiver).length >= 200 && (await dovecot.countMessages(USER)) === 0;
      },
      90_000,
    );

    const ok = delivered(receiver);
    expect(ok).toHaveLength(200);
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(new Set(ok.map((d) => d.webhookId)).size).toBe(200);
    const byMessageId = new Map(ok.map((d) => [(d.json as { messageId: string }).messageId, d]));
    for (const message of corpus) {
      const delivery = byMessageId.get(`<${message.messageId}>`) ?? byMessageId.get(message.messageId);
      expect(delivery, message.messageId).toBeDefined();
      const payload = delivery!.json as PayloadV1;
      expect(validatePayload(payload), JSON.stringify(validatePayload.errors)).toBe(true);
      expect(payload.id).toBe(delivery!.webhookId);
      expect(payload.subject).toBe(message.subject);
      expect(payload.from).toEqual(message.from);
      expect(payload.attachments.map((a) => a.sha256).sort()).toEqual(
        message.attachments.map((a) => a.sha256).sort(),
      );
    }
    expect(await pophook.stop('SIGTERM')).toBe(0);
  });

  it('retries through 500 and 429 answers and deletes nothing before the 2xx', async () => {
    const corpus = smallCorpus(5, 7);
    await dovecot.addMessages(
      USER,
      corpus.map((m) => m.raw),
    );
    let phase: 'failing' | 'ok' = 'failing';
    await receiver.setRespond((request) => {
      if (phase === 'ok') return 200;
      return request.attempt % 2 === 0 ? { status: 429, headers: { 'retry-after': '1' } } : 500;
    });
    start(['run', '--config', await config()]);

    await waitUntil(
      'every message tried at least 3 times',
      () => {
        const tries = receiver.byWebhookId();
        return tries.size === 5 && [...tries.values()].every((d) => d.length >= 3);
      },
      30_000,
    );
    expect(await dovecot.countMessages(USER)).toBe(5);

    phase = 'ok';
    await waitUntil(
      'all delivered and deleted',
      async () => {
        return delivered(receiver).length === 5 && (await dovecot.countMessages(USER)) === 0;
      },
      30_000,
    );
    for (const attempts of receiver.byWebhookId().values()) {
      expect(new Set(attempts.map((a) => a.webhookId)).size).toBe(1);
      expect(attempts.filter((a) => a.status === 200)).toHaveLength(1);
    }
  });

  it('dead-letters a 400, keeps the message, and delivers it on dlq replay', async () => {
    await dovecot.addMessages(
      USER,
      smallCorpus(1, 9).map((m) => m.raw),
    );
    await receiver.setRespond(400);
    const configPath = await config();
    const pophook = start(['run', '--config', configPath]);
    await pophook.waitForLog((l) => l.msg === 'delivery' && l.code === 'WEBHOOK_HTTP_4XX');
    // A few more polls go by: the dead letter stays on the server and is not tried again.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await dovecot.countMessages(USER)).toBe(1);
    // One delivery attempt, and the dead letter's message.dead event (to the same webhook, also refused).
    const [attempt, event] = receiver.deliveries;
    expect(receiver.deliveries).toHaveLength(2);
    expect(event?.json).toMatchObject({ type: 'message.dead', messageWebhookId: attempt?.webhookId });

    const list = startPophook(['dlq', 'list', '--config', configPath]);
    expect(await list.exited).toBe(0);
    expect(list.text.join('\n')).toMatch(/1 dead letter/);

    await receiver.setRespond(200);
    const replay = startPophook(['dlq', 'replay', '--all', '--config', configPath]);
    expect(await replay.exited).toBe(0);
    await waitUntil(
      'replayed message delivered and deleted',
      async () => {
        return delivered(receiver).length === 1 && (await dovecot.countMessages(USER)) === 0;
      },
      30_000,
    );
    expect(new Set(receiver.deliveries.map((d) => d.webhookId)).size).toBe(2);
  });

  it('keep mode: two runs deliver each message once and delete nothing', async () => {
    await dovecot.addMessages(
      USER,
      smallCorpus(10, 11).map((m) => m.raw),
    );
    const configPath = await config({ mailbox: { delete: false } });
    const first = start(['run', '--config', configPath]);
    await waitUntil('10 deliveries', () => delivered(receiver).length === 10, 30_000);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = start(['run', '--config', configPath]);
    const okPolls = () =>
      second.logs.filter((l) => l.msg === 'poll' && l.outcome === 'ok' && l.listed === 10);
    await waitUntil('three polls of the second run', () => okPolls().length >= 3, 30_000);
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(receiver.deliveries).toHaveLength(10);
    expect(await dovecot.countMessages(USER)).toBe(10);
  });

  it('SIGTERM mid-batch: deliveries in flight finish and are recorded, the rest handed back, none twice', async () => {
    await dovecot.addMessages(
      USER,
      smallCorpus(12, 13).map((m) => m.raw),
    );
    await receiver.setRespond((request) => (request.verified ? { status: 200, delayMs: 500 } : 401));
    const prefix = `e2e${randomBytes(4).toString('hex')}`;
    const configPath = await config({ prefix, delivery: { concurrency: 2 } });
    const first = start(['run', '--config', configPath]);
    await waitUntil('the first deliveries in flight', () => receiver.deliveries.length >= 2, 30_000);
    expect(await first.stop('SIGTERM')).toBe(0);
    const summaries = first.logs.filter((l) => l.msg === 'deliveries');
    expect(summaries.reduce((n, l) => n + Number(l['handed-back'] ?? 0), 0)).toBeGreaterThan(0);
    const firstRun = receiver.deliveries.length;
    expect(firstRun).toBeLessThan(12);

    await receiver.setRespond((request) => (request.verified ? 200 : 401));
    const second = start(['run', '--config', configPath]);
    await waitUntil(
      'all 12 delivered and the mailbox empty',
      async () => delivered(receiver).length >= 12 && (await dovecot.countMessages(USER)) === 0,
      60_000,
    );
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(delivered(receiver)).toHaveLength(12);
    expect(new Set(delivered(receiver).map((d) => d.webhookId)).size).toBe(12);
  }, 120_000);

  it('a second SIGTERM forces: the delivery in flight is cut, each part closes once, exit 0, nothing lost', async () => {
    await dovecot.addMessages(
      USER,
      smallCorpus(1, 11).map((m) => m.raw),
    );
    // The receiver holds the first request for a minute: the drain would wait for it.
    await receiver.setRespond((request) => (request.verified ? { status: 200, delayMs: 60_000 } : 401));
    const prefix = `e2e${randomBytes(4).toString('hex')}`;
    const first = start(['run', '--config', await config({ prefix })]);
    await waitUntil('the delivery in flight', () => receiver.deliveries.length === 1, 30_000);
    first.child.kill('SIGTERM');
    await first.waitForLog((line) => line.msg === 'draining: no new work, waiting for work in flight');
    const forcedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - forcedAt).toBeLessThan(12_000);
    expect(first.logs.filter((line) => line.msg === 'second signal: forcing shutdown')).toHaveLength(1);
    expect(first.logs.filter((line) => line.msg === 'pophook stopped')).toHaveLength(1);
    expect(first.text.join('\n')).not.toMatch(/Error|Unhandled/);
    expect(await dovecot.countMessages(USER)).toBe(1);

    // The cut delivery is not lost: the next run delivers it and deletes the message.
    receiver.clear();
    await receiver.setRespond((request) => (request.verified ? 200 : 401));
    const second = start(['run', '--config', await config({ prefix })]);
    await waitUntil(
      'delivered and deleted',
      async () => delivered(receiver).length === 1 && (await dovecot.countMessages(USER)) === 0,
      60_000,
      { context: () => JSON.stringify(second.logs.slice(-8).map((l) => [l.msg, l.outcome, l.code])) },
    );
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
