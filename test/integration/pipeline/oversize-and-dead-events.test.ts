// Messages over maxMessageSize under each oversize policy, and the message.dead events of dead letters, with
// real parts: Dovecot, a private redis-server, receivers verifying every signature with the standardwebhooks
// package, and the real `pophook run` as a child process. The promise checked throughout: the whole message
// stays on the server until its (truncated) payload got a 2xx, and a dead letter stays there.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { PayloadV1 } from '../../../src/payload/index.ts';
import type { DeadEvent } from '../../../src/webhook/dead-event.ts';
import { manyParts } from '../../fixtures/mime/corpus.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Delivery, type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'olga';
const PASSWORD = 'olga-oversize-password';
const LIMIT = 20_000;

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
/** The deadLetterWebhook of the events tests. */
let events: Receiver;
let dir: string;
let pophook: PophookProcess | undefined;
const validators: Record<string, ValidateFunction> = {};

beforeAll(async () => {
  [dovecot, redis, receiver, events] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
    startReceiver({ secret: SECRET }),
  ]);
  const ajv = new Ajv2020.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  for (const name of ['payload-v1', 'message-dead']) {
    const path = new URL(`../../../schema/${name}.schema.json`, import.meta.url);
    validators[name] = ajv.compile(JSON.parse(await readFile(path, 'utf8')));
  }
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop(), events?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-oversize-'));
  await dovecot.clearMailbox(USER);
  receiver.clear();
  events.clear();
  await Promise.all([receiver.setRespond(200), events.setRespond(200)]);
});

/** The process's last words, for a wait that timed out. */
const lastLogs = () =>
  [...(pophook?.text ?? []), ...(pophook?.logs ?? []).map((l) => JSON.stringify(l))].slice(-15).join('\n');

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') console.log(lastLogs());
  await pophook?.stop('SIGKILL');
  pophook = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Starts `pophook run`; `deadLetterWebhook: true` sends message.dead events to the `events` receiver. */
async function run(mailbox: Record<string, unknown>, deadLetterWebhook = false): Promise<void> {
  const path = await writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix: `ov${randomBytes(4).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    webhook: { retryDelay: '200ms', retryMaxDelay: '1s' },
    mailbox: { maxMessageSize: '20KB', ...mailbox },
  });
  if (deadLetterWebhook) {
    const config = parse(await readFile(path, 'utf8'));
    config.webhooks.events = { ...config.webhooks.receiver, url: events.url };
    config.mailboxes.inbox.deadLetterWebhook = 'events';
    await writeFile(path, stringify(config));
  }
  pophook = startPophook(['run', '--config', path]);
}

const PDF = randomBytes(60_000).toString('base64').replace(/.{76}/g, '$&\r\n');

/** A message with a text part, an HTML part and a ~60 kB PDF: about 85 kB, over LIMIT. */
function bigMessage(subject: string): Buffer {
  return Buffer.from(
    [
      'From: Bea <bea@example.com>',
      'To: olga@example.net',
      `Subject: ${subject}`,
      `Message-ID: <${subject.replaceAll(' ', '-')}@example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Scan attached.',
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Scan attached.</p>',
      '--alt--',
      '--mix',
      'Content-Type: application/pdf; name="scan.pdf"',
      'Content-Disposition: attachment; filename="scan.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      PDF,
      '--mix--',
      '',
    ].join('\r\n'),
  );
}

function smallMessage(subject: string): Buffer {
  return Buffer.from(`From: bea@example.com\r\nTo: olga@example.net\r\nSubject: ${subject}\r\n\r\nHi.\r\n`);
}

const subjectOf = (d: Delivery) => (d.json as { subject?: string }).subject;
const typeOf = (d: Delivery) => (d.json as { type?: string }).type;

/**
 * The receiver refuses the oversize message's payload (500) until told otherwise: while it does, the message
 * must stay on the server (the small one, accepted, goes); once it answers 2xx, the message is deleted.
 */
async function deliverTruncated(oversize: string): Promise<PayloadV1> {
  let accept = false;
  await receiver.setRespond((r) => (subjectOf(r as Delivery) === 'big' && !accept ? 500 : 200));
  await dovecot.addMessages(USER, [bigMessage('big'), smallMessage('small')]);
  await run({ oversize });
  await waitUntil(
    'the big one refused twice, the small one accepted and deleted',
    async () =>
      receiver.deliveries.filter((d) => subjectOf(d) === 'big').length >= 2 &&
      (await dovecot.countMessages(USER)) === 1,
    30_000,
  );
  expect(await dovecot.countMessages(USER)).toBe(1);
  accept = true;
  await waitUntil(
    'the big one accepted and deleted',
    async () => (await dovecot.countMessages(USER)) === 0,
    30_000,
  );
  const accepted = receiver.deliveries.filter((d) => subjectOf(d) === 'big' && d.status === 200);
  expect(accepted).toHaveLength(1);
  expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
  const payload = accepted[0]!.json as PayloadV1;
  expect(validators['payload-v1']!(payload), JSON.stringify(validators['payload-v1']!.errors)).toBe(true);
  const small = receiver.deliveries.find((d) => subjectOf(d) === 'small')!.json as PayloadV1;
  expect(small.truncated).toBeNull();
  return payload;
}

describe('oversize: the three policies against Dovecot', () => {
  it('headers-only delivers the header block marked truncated, and deletes only after the 2xx', async () => {
    const payload = await deliverTruncated('headers-only');
    expect(payload.truncated).toEqual({
      reason: 'headers-only',
      originalSize: expect.any(Number),
      limit: LIMIT,
      droppedAttachments: [],
    });
    expect(payload.truncated!.originalSize).toBeGreaterThan(80_000);
    expect(payload.from).toEqual({ name: 'Bea', address: 'bea@example.com' });
    expect(payload.text).toBeNull();
    expect(payload.attachments).toEqual([]);
    expect(payload.size).toBeLessThan(1_000);
  }, 90_000);

  it('strip-attachments delivers the text without the PDF, listed as dropped, and deletes after the 2xx', async () => {
    const payload = await deliverTruncated('strip-attachments');
    expect(payload.truncated).toMatchObject({ reason: 'strip-attachments', limit: LIMIT });
    expect(payload.truncated!.droppedAttachments).toEqual([
      { filename: 'scan.pdf', contentType: 'application/pdf', approxSize: expect.any(Number) },
    ]);
    // The estimate from the base64 body: within a few percent of the 60,000 bytes.
    expect(Math.abs(payload.truncated!.droppedAttachments[0]!.approxSize - 60_000)).toBeLessThan(2_000);
    expect(payload.text).toBe('Scan attached.');
    expect(payload.html).toContain('<p>Scan attached.</p>');
    expect(payload.attachments).toEqual([]);
    expect(payload.warnings).toEqual([]);
    expect(payload.size).toBeLessThan(2_000);
  }, 90_000);

  it('strip-attachments on a message the splitter refuses: a dead letter, and the mailbox keeps flowing', async () => {
    await dovecot.addMessages(USER, [manyParts(2_000), smallMessage('after')]);
    await run({ oversize: 'strip-attachments' });
    await waitUntil(
      "the refused one's event and the next message delivered",
      () =>
        receiver.deliveries.some((d) => typeOf(d) === 'message.dead') &&
        receiver.deliveries.some((d) => subjectOf(d) === 'after' && d.status === 200),
      30_000,
      { context: lastLogs },
    );
    const event = receiver.deliveries.find((d) => typeOf(d) === 'message.dead')!.json as DeadEvent;
    expect(event).toMatchObject({ subject: null, error: { code: 'PAYLOAD_LIMIT' } });
    await waitUntil(
      'the delivered one deleted',
      async () => (await dovecot.countMessages(USER)) === 1,
      30_000,
    );
  }, 60_000);

  it('dead-letter (the default) delivers nothing, keeps the message, and sends a message.dead event', async () => {
    await dovecot.addMessages(USER, [bigMessage('too big')]);
    await run({});
    const [event] = await receiver.waitFor((all) => all.some((d) => typeOf(d) === 'message.dead'), 30_000);
    const body = event!.json as DeadEvent;
    expect(validators['message-dead']!(body), JSON.stringify(validators['message-dead']!.errors)).toBe(true);
    expect(event!.verified).toBe(true);
    expect(event!.webhookId).toBe(body.id);
    expect(body).toMatchObject({ mailbox: 'inbox', subject: 'too big', attempts: 0 });
    expect(body.error.code).toBe('MESSAGE_TOO_LARGE');
    expect(body.size).toBeGreaterThan(LIMIT);
    expect(body.headers).toContainEqual({ name: 'Message-ID', value: '<too-big@example.com>' });
    expect(receiver.deliveries.filter((d) => typeOf(d) !== 'message.dead')).toEqual([]);
    expect(await dovecot.countMessages(USER)).toBe(1);
  }, 60_000);
});

describe('message.dead events', () => {
  it('a permanent 4xx: the event goes to deadLetterWebhook, retried while that receiver is down', async () => {
    await events.setRespond('down');
    await receiver.setRespond({ status: 422, body: 'no such customer' });
    await dovecot.addMessages(USER, [smallMessage('refused')]);
    await run({}, true);
    await receiver.waitFor((all) => all.some((d) => d.status === 422), 30_000);
    // The event's first attempts find nobody listening; it waits, the message stays.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(events.deliveries).toEqual([]);
    expect(await dovecot.countMessages(USER)).toBe(1);

    await events.setRespond((r) => (r.attempt === 1 ? 503 : 200));
    const got = await events.waitFor((all) => all.some((d) => d.status === 200), 30_000);
    const ok = got.filter((d) => d.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.attempt).toBe(2);
    expect(got.every((d) => d.verified && d.webhookId === ok[0]!.webhookId)).toBe(true);
    const body = ok[0]!.json as DeadEvent;
    expect(validators['message-dead']!(body), JSON.stringify(validators['message-dead']!.errors)).toBe(true);
    expect(body.messageWebhookId).toBe(receiver.deliveries[0]!.webhookId);
    expect(body).toMatchObject({
      type: 'message.dead',
      uidl: expect.any(String),
      subject: 'refused',
      from: 'bea@example.com',
      attempts: 1,
      error: { code: 'WEBHOOK_HTTP_4XX', status: 422, body: 'no such customer' },
    });
    expect(body.headers.map((h) => h.name)).toEqual(['From', 'To', 'Subject']);
    // The event's troubles changed nothing for the message: one refused attempt, still on the server.
    expect(receiver.deliveries).toHaveLength(1);
    expect(await dovecot.countMessages(USER)).toBe(1);
  }, 90_000);
});
