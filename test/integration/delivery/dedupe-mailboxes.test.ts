// One ticket per email across mailboxes, with real parts: Dovecot holding two mailboxes that both received
// the same email (their own Delivered-To and Received fields), a private redis-server, a receiver verifying
// every signature, and the real `pophook run` process with `dedupe` on. Skip: one delivery, the other copy
// recorded and deleted. Mark: two deliveries, the second naming the first. Outside the window: both
// delivered. The first copy failing: the other copy is delivered, so the email is never lost.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PayloadV1 } from '../../../src/payload/index.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { payloadValidator } from '../../helpers/payload-schema.ts';
import { type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';
import { type Delivery, type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { cli } from '../../helpers/run-cli.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USERS = { alice: 'alice-dedupe-pw', bob: 'bob-dedupe-pw' };

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let running: PophookProcess | undefined;
let validatePayload: ValidateFunction;

beforeAll(async () => {
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: USERS }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
  ]);
  validatePayload = await payloadValidator();
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-dedupe-'));
  await Promise.all(Object.keys(USERS).map((user) => dovecot.clearMailbox(user)));
  receiver.clear();
  await receiver.setRespond((request) => (request.verified ? 200 : 401));
});

afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The copy of one email that mailbox `user` received: the same author part, its own trace fields. */
function copyOf(user: string, id: string): Buffer {
  const to = `${user}@example.net`;
  return Buffer.from(
    [
      'Return-Path: <customer@example.org>',
      `Delivered-To: ${to}`,
      `Received: from mx.example.org (mx.example.org [192.0.2.7])\r\n\tby pop.example.net for <${to}>; Tue, 01 Jul 2025 10:52:38 +0200`,
      'From: Customer <customer@example.org>',
      'To: alice@example.net, bob@example.net',
      'Subject: The printer is on fire',
      'Date: Tue, 01 Jul 2025 10:52:37 +0200',
      `Message-ID: <${id}@example.org>`,
      '',
      'Please send help.',
      '',
    ].join('\r\n'),
  );
}

/** The email `id` lands in both mailboxes, each copy with its own trace fields. */
async function bothReceive(id: string): Promise<void> {
  await Promise.all(Object.keys(USERS).map((user) => dovecot.addMessages(user, [copyOf(user, id)])));
}

async function run(dedupe: Record<string, unknown>): Promise<string> {
  await writeFile(join(dir, 'ca.pem'), dovecot.caPem);
  const mailbox = (user: keyof typeof USERS) => ({
    host: '127.0.0.1',
    port: dovecot.pop3Port,
    tls: 'starttls',
    ca: join(dir, 'ca.pem'),
    username: user,
    password: USERS[user],
    pollInterval: '1s',
    webhook: 'rx',
  });
  const config = {
    redis: { url: redis.url, prefix: `dd${randomBytes(4).toString('hex')}` },
    webhooks: {
      rx: { url: receiver.url, secret: SECRET, timeout: '5s', retryDelay: '200ms', retryMaxDelay: '1s' },
    },
    delivery: { concurrency: 2 },
    dedupe,
    mailboxes: { alice: mailbox('alice'), bob: mailbox('bob') },
  };
  const path = join(dir, 'pophook.yml');
  await writeFile(path, stringify(config));
  running = startPophook(['run', '--config', path]);
  return path;
}

// Accepted payloads: a dead letter's message.dead event goes to the same receiver and is not one.
const accepted = (): Delivery[] =>
  receiver.deliveries.filter(
    (d) => d.status === 200 && (d.json as { type?: string }).type !== 'message.dead',
  );
const payload = (d: Delivery) => d.json as PayloadV1;
const emptied = async () =>
  (await dovecot.countMessages('alice')) === 0 && (await dovecot.countMessages('bob')) === 0;

async function duplicatesInStatus(configPath: string): Promise<Record<string, number | undefined>> {
  const { code, stdout } = await cli(['status', '--json', '--config', configPath]);
  expect(code).toBe(0);
  const snapshot = JSON.parse(stdout) as { mailboxes: Array<{ id: string; duplicates?: number }> };
  return Object.fromEntries(snapshot.mailboxes.map((m) => [m.id, m.duplicates]));
}

/**
 * Both mailboxes get the email; whichever copy reaches the receiver first is answered `status` every time,
 * any other 200. Returns who that copy is (its webhook-id).
 */
async function failFirstCopy(id: string, status: number): Promise<() => string | undefined> {
  let first: string | undefined;
  await receiver.setRespond((request) => {
    first ??= request.webhookId;
    return request.webhookId === first ? status : 200;
  });
  await bothReceive(id);
  return () => first;
}

describe('dedupe across mailboxes (pophook run, Dovecot, Redis, receiver)', () => {
  it('skip: two mailboxes with the same email make one delivery; the copy is recorded and deleted', async () => {
    // A slow receiver keeps the first copy in flight while the second is parsed: the second must wait.
    await receiver.setRespond({ status: 200, delayMs: 1_500 });
    await bothReceive('skip-1');
    const configPath = await run({ window: '1h', mode: 'skip' });

    await waitUntil(
      'one delivery and both mailboxes empty',
      async () => accepted().length >= 1 && (await emptied()),
      40_000,
    );
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(accepted()).toHaveLength(1);
    const [first] = accepted();
    expect(validatePayload(payload(first!)), JSON.stringify(validatePayload.errors)).toBe(true);
    expect(payload(first!).duplicateOf).toBeUndefined();
    const counts = await duplicatesInStatus(configPath);
    const skippedIn = payload(first!).mailbox === 'alice' ? 'bob' : 'alice';
    expect(counts[skippedIn]).toBe(1);
    expect(counts[payload(first!).mailbox]).toBeUndefined();
    // Nothing more arrives later (no retry of the skipped copy).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(receiver.deliveries).toHaveLength(1);
  });

  it('mark: both copies delivered, the second with duplicateOf naming the first', async () => {
    await bothReceive('mark-1');
    const configPath = await run({ window: '1h', mode: 'mark' });

    await waitUntil(
      'two deliveries and both mailboxes empty',
      async () => accepted().length >= 2 && (await emptied()),
      40_000,
    );
    expect(accepted()).toHaveLength(2);
    const [first, second] = accepted().map(payload);
    for (const p of [first!, second!])
      expect(validatePayload(p), JSON.stringify(validatePayload.errors)).toBe(true);
    expect(first!.contentKey).toBe(second!.contentKey);
    expect(first!.duplicateOf).toBeUndefined();
    expect(second!.duplicateOf).toEqual({ id: first!.id, mailbox: first!.mailbox, uidl: first!.uidl });
    expect(second!.mailbox).not.toBe(first!.mailbox);
    expect((await duplicatesInStatus(configPath))[second!.mailbox]).toBe(1);
  });

  it('outside the window: the later copy is delivered again', async () => {
    await dovecot.addMessages('alice', [copyOf('alice', 'window-1')]);
    await run({ window: '1s', mode: 'skip' });
    await waitUntil(
      'the first copy delivered',
      async () => accepted().length >= 1 && (await emptied()),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the window runs out
    await dovecot.addMessages('bob', [copyOf('bob', 'window-1')]);

    await waitUntil(
      'the second copy delivered',
      async () => accepted().length >= 2 && (await emptied()),
      30_000,
    );
    const [first, second] = accepted().map(payload);
    expect(new Set([first!.mailbox, second!.mailbox])).toEqual(new Set(['alice', 'bob']));
    expect(second!.contentKey).toBe(first!.contentKey);
    expect(second!.duplicateOf).toBeUndefined();
  });

  it('the first copy dead-lettered (a 4xx): the other copy is delivered, the failed one stays on its server', async () => {
    const failing = await failFirstCopy('dead-1', 422);
    await run({ window: '1h', mode: 'skip' });

    await waitUntil('one copy accepted', async () => accepted().length >= 1, 40_000);
    const deadMailbox = payload(receiver.deliveries.find((d) => d.webhookId === failing())!).mailbox;
    const deliveredMailbox = payload(accepted()[0]!).mailbox;
    expect(deadMailbox).not.toBe(deliveredMailbox);
    await waitUntil(
      'the accepted copy deleted',
      async () => (await dovecot.countMessages(deliveredMailbox)) === 0,
      20_000,
    );
    // The dead letter keeps its copy on the server (it was never delivered as itself).
    expect(await dovecot.countMessages(deadMailbox)).toBe(1);
    expect(accepted()).toHaveLength(1);
  });

  it('the first copy failing for now (503): the other copy is delivered, the first then recorded as its duplicate', async () => {
    const failing = await failFirstCopy('retry-1', 503);
    const configPath = await run({ window: '1h', mode: 'skip' });

    await waitUntil(
      'one copy accepted and both mailboxes empty',
      async () => accepted().length >= 1 && (await emptied()),
      40_000,
    );
    expect(accepted()).toHaveLength(1);
    const winner = payload(accepted()[0]!);
    expect(winner.id).not.toBe(failing());
    const counts = await duplicatesInStatus(configPath);
    expect(counts[winner.mailbox === 'alice' ? 'bob' : 'alice']).toBe(1);
  });
});
