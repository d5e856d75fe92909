// Routes and fan-out end to end: Dovecot, a private Redis, `pophook run` as a child process and two
// receivers with secrets of their own (each verifies its own signatures with standardwebhooks). Routing by
// recipient (plus tag) and subject, a drop route (recorded, counted, deleted), a message fanned out to both
// webhooks with a webhook-id per target, a target that refuses for good (its own dead letter, the other
// target delivered, the message kept on the server), and the replay of that target alone.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mailboxKeys } from '../../../src/ledger/index.ts';
import { webhookIdFor } from '../../../src/queue/ids.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Delivery, type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const BILLING_SECRET = secret();
const TICKETS_SECRET = secret();
const USER = 'alice';
const PASSWORD = 'alice-routes-password';

let dovecot: DovecotServer;
let redis: RedisServer;
let billing: Receiver;
let tickets: Receiver;
let dir: string;
let prefix: string;
let running: PophookProcess[] = [];
let client: Redis;

beforeAll(async () => {
  [dovecot, redis, billing, tickets] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer(),
    startReceiver({ secret: BILLING_SECRET }),
    startReceiver({ secret: TICKETS_SECRET }),
  ]);
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await Promise.all([dovecot?.stop(), redis?.stop(), billing?.stop(), tickets?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-routes-'));
  prefix = `routes${randomBytes(4).toString('hex')}`;
  await dovecot.clearMailbox(USER);
  for (const rx of [billing, tickets]) {
    rx.clear();
    await rx.setRespond((request) => (request.verified ? 200 : 401));
  }
});

afterEach(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  running = [];
  await rm(dir, { recursive: true, force: true });
});

function message(subject: string, headers: string[] = []): Buffer {
  const text = [
    ...headers,
    'From: Customer <customer@client.example>',
    'To: intake@example.com',
    `Subject: ${subject}`,
    `Message-ID: <${randomBytes(6).toString('hex')}@client.example>`,
    'Date: Thu, 03 Dec 2026 10:00:00 +0000',
    '',
    `Body of ${subject}`,
    '',
  ].join('\r\n');
  return Buffer.from(text);
}

async function start(): Promise<PophookProcess> {
  const child = startPophook(['run', '--config', await config()]);
  running.push(child);
  return child;
}

function config(): Promise<string> {
  return writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix,
    webhookUrl: tickets.url,
    secret: TICKETS_SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    webhook: { retryDelay: '200ms', retryMaxDelay: '1s' },
    webhooks: {
      billing: { url: billing.url, secret: BILLING_SECRET, timeout: '5s' },
      tickets: { url: tickets.url, secret: TICKETS_SECRET, timeout: '5s', retryDelay: '200ms' },
    },
    mailbox: {
      webhook: undefined,
      routes: [
        { name: 'newsletters', match: { subject: '^\\[bulk\\]' }, drop: true },
        { name: 'billing', match: { recipient: 'billing@example.com' }, deliver: ['billing'] },
        { name: 'urgent', match: { subject: 'urgent' }, deliver: ['billing', 'tickets'] },
        { name: 'pdf', match: { attachmentType: 'application/pdf' }, deliver: ['billing'] },
        { name: 'rest', deliver: ['tickets'] },
      ],
    },
  });
}

const isDeadEvent = (d: Delivery) => (d.json as { type?: string }).type === 'message.dead';
/** Accepted payloads (a dead letter's message.dead event goes to the mailbox's first webhook too). */
const ok = (rx: Receiver) => rx.deliveries.filter((d) => d.status === 200 && !isDeadEvent(d));
const subjectOf = (d: Delivery) => (d.json as { subject: string }).subject;
const uidlOf = (d: Delivery) => (d.json as { uidl: string }).uidl;

describe('routes and fan-out', { timeout: 90_000 }, () => {
  it('routes by recipient and subject, drops, fans out with a webhook-id per target', async () => {
    await dovecot.addMessages(USER, [
      message('Invoice 42', ['Delivered-To: billing+acme@example.com']),
      message('[bulk] November news'),
      message('URGENT: server down'),
      message('Hello'),
    ]);
    const pophook = await start();
    await waitUntil(
      'every target answered and the mailbox is empty',
      async () =>
        ok(billing).length >= 2 && ok(tickets).length >= 2 && (await dovecot.countMessages(USER)) === 0,
      60_000,
    );

    expect(ok(billing).map(subjectOf).sort()).toEqual(['Invoice 42', 'URGENT: server down']);
    expect(ok(tickets).map(subjectOf).sort()).toEqual(['Hello', 'URGENT: server down']);
    for (const d of [...billing.deliveries, ...tickets.deliveries]) expect(d.verified).toBe(true);
    // A single target keeps the message's webhook-id; each fan-out target has its own, in the body too.
    const single = ok(billing).find((d) => subjectOf(d) === 'Invoice 42')!;
    expect(single.webhookId).toBe(webhookIdFor('inbox', uidlOf(single)));
    const urgentB = ok(billing).find((d) => subjectOf(d) === 'URGENT: server down')!;
    const urgentT = ok(tickets).find((d) => subjectOf(d) === 'URGENT: server down')!;
    const base = webhookIdFor('inbox', uidlOf(urgentB));
    expect([urgentB.webhookId, urgentT.webhookId]).toEqual([`${base}_billing`, `${base}_tickets`]);
    expect((urgentT.json as { id: string }).id).toBe(urgentT.webhookId);

    // The drop is counted in the mailbox's meta (status, dashboard API) and nothing received it.
    expect(await client.hget(mailboxKeys(prefix, 'inbox').meta, 'dropped')).toBe('1');
    expect([...billing.deliveries, ...tickets.deliveries].map(subjectOf)).not.toContain(
      '[bulk] November news',
    );
    expect(await pophook.stop('SIGTERM')).toBe(0);
  });

  it('a target refusing for good dead-letters alone, keeps the message on the server, and replays alone', async () => {
    await tickets.setRespond((request) =>
      (request.json as { subject: string }).subject === 'urgent 2' ? 400 : 200,
    );
    await dovecot.addMessages(USER, [message('urgent 2'), message('Hello 2')]);
    const pophook = await start();
    await waitUntil(
      'billing got the fan-out message, tickets refused it and got the other',
      async () =>
        ok(billing).length === 1 &&
        ok(tickets).length === 1 &&
        tickets.deliveries.some((d) => d.status === 400),
      60_000,
    );
    // Polls go on (1 s interval): the fanned-out message stays, its dead target keeps it there.
    await waitUntil(
      'the other message deleted',
      async () => (await dovecot.countMessages(USER)) === 1,
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await dovecot.countMessages(USER)).toBe(1);
    const refused = tickets.deliveries.find((d) => d.status === 400)!;
    expect(tickets.deliveries.filter((d) => d.webhookId === refused.webhookId)).toHaveLength(1);
    const entries = await client.hgetall(mailboxKeys(prefix, 'inbox').ledger);
    const entry = JSON.parse(entries[uidlOf(refused)]!);
    expect(entry.state).toBe('dead');
    expect(entry.targets.billing.state).toBe('delivered');
    expect(entry.targets.tickets).toMatchObject({ state: 'dead', id: refused.webhookId });
    // Dead as a whole once every target settled: one message.dead event (sent by its own queue), naming it.
    const events = () => [...billing.deliveries, ...tickets.deliveries].filter(isDeadEvent);
    await waitUntil('the message.dead event', async () => events().length > 0, 15_000);
    expect(events().map((d) => (d.json as { uidl: string }).uidl)).toEqual([uidlOf(refused)]);

    // The receiver is fixed; a replay sends the dead target only, with its own webhook-id again.
    await tickets.setRespond(200);
    // Named by the target's own webhook-id, the one its receiver knows.
    const replay = startPophook(['dlq', 'replay', refused.webhookId, '--config', join(dir, 'pophook.yml')]);
    expect(await replay.exited).toBe(0);
    await waitUntil(
      'the replayed target accepted and the message deleted',
      async () => {
        return (
          tickets.deliveries.some((d) => d.webhookId === refused.webhookId && d.status === 200) &&
          (await dovecot.countMessages(USER)) === 0
        );
      },
      30_000,
    );
    expect(ok(billing)).toHaveLength(1);
    expect(await pophook.stop('SIGTERM')).toBe(0);
  });

  it('pophook check --routes shows the route of each message from its headers and changes nothing', async () => {
    await dovecot.addMessages(USER, [
      message('Invoice 7', ['X-Original-To: billing@example.com']),
      message('[bulk] offers'),
      message('urgent too'),
      message('something else'),
    ]);
    const check = startPophook(['check', '--config', await config(), '--routes', 'inbox', '--last', '3']);
    expect(await check.exited).toBe(0);
    const out = check.text.join('\n');
    expect(out).not.toContain('Invoice 7');
    expect(out).toMatch(/"\[bulk\] offers" → newsletters: drop/);
    expect(out).toMatch(/"urgent too" → urgent: deliver to billing, tickets/);
    expect(out).toMatch(/"something else" → undecided: route pdf has a condition on the body/);
    expect(out).toContain('3 message(s) of inbox, from their headers; nothing was changed');
    expect(await dovecot.countMessages(USER)).toBe(4);
    expect(await client.keys(`${prefix}*`)).toEqual([]);
    expect([...billing.deliveries, ...tickets.deliveries]).toEqual([]);
  });
});
