// `pophook dlq` and `pophook retry` as an operator uses them, against a running `pophook run` with Dovecot,
// a private Redis and a receiver that refuses one message for good (400 with a body) and another for now
// (503 with Retry-After: an hour): list and show tell what happened and what the receiver answered;
// `retry now` attempts the waiting one at once; `replay --wait` reports delivered, or dead again (exit 1).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type CorpusMessage, smallCorpus } from '../../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { refuseOneDelayOthers, SLOW_RETRY, subjectOf } from '../../helpers/refusing-receiver.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'alice';
const PASSWORD = 'alice-dlq-password';
const REFUSAL = '{"error":"unknown customer"}\r\n\x1b[31m';

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let configPath: string;
let service: PophookProcess;
let refused: CorpusMessage;
let delayed: CorpusMessage;

async function cli(...args: string[]) {
  const child = startPophook([...args, '--config', configPath]);
  const code = await child.exited;
  return { code, out: child.text.join('\n') };
}

beforeAll(async () => {
  [dovecot, redis, receiver, dir] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer(),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-dlq-')),
  ]);
  [refused, delayed] = smallCorpus(2, 31) as [CorpusMessage, CorpusMessage];
  await refuseOneDelayOthers(receiver, refused.subject, {
    status: 400,
    body: `${REFUSAL}${'x'.repeat(2_000)}`,
  });
  await dovecot.addMessages(USER, [refused.raw, delayed.raw]);
  configPath = await writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix: `dlq${randomBytes(4).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    webhook: SLOW_RETRY,
  });
  service = startPophook(['run', '--config', configPath]);
  await Promise.all([
    service.waitForLog((l) => l.msg === 'delivery' && l.outcome === 'dead-letter', 60_000),
    service.waitForLog((l) => l.msg === 'delivery' && l.outcome === 'retry', 60_000),
  ]);
}, 120_000);

afterAll(async () => {
  await service?.stop('SIGKILL');
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Each command is a fresh node process (a few seconds on a busy machine).
describe('pophook dlq and pophook retry', { timeout: 120_000 }, () => {
  it('dlq list shows the message, the reason, the attempts and what the receiver answered', async () => {
    const { code, out } = await cli('dlq', 'list', '--json');
    expect(code).toBe(0);
    const [letter, ...rest] = JSON.parse(out);
    expect(rest).toHaveLength(0);
    expect(letter).toMatchObject({
      mailbox: 'inbox',
      subject: refused.subject,
      size: refused.raw.length,
      rawInRedis: true,
      entry: {
        state: 'dead',
        attempts: 1,
        lastError: { code: 'WEBHOOK_HTTP_4XX', status: 400, statusText: 'Bad Request' },
      },
    });
    expect(letter.from).toContain(refused.from.address);
    expect(letter.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(letter.entry.lastError.body).toMatch(/^\{"error":"unknown customer"\} \[31mx+$/);
    expect(Buffer.byteLength(letter.entry.lastError.body)).toBeLessThanOrEqual(1024);

    const text = await cli('dlq', 'list');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`subject ${refused.subject}`);
    expect(text.out).toContain('answer  400 Bad Request');
    expect(text.out).toMatch(/after 1 attempt\n/);
    expect(text.out).not.toContain('\x1b');
    expect(text.out).toMatch(/1 dead letter$/);
  });

  it('dlq show prints it all with the message headers', async () => {
    const id = JSON.parse((await cli('dlq', 'list', '--json')).out)[0].webhookId as string;
    const { code, out } = await cli('dlq', 'show', id);
    expect(code).toBe(0);
    expect(out).toContain(`${id}  inbox/`);
    expect(out).toContain('raw     in Redis');
    expect(out).toContain(`Message-ID: <${refused.messageId}>`);
    expect(out).toContain(`Subject: ${refused.subject}`);
    expect((await cli('dlq', 'show', 'msg_nothing')).code).toBe(1);
  });

  it('retry list shows the delivery waiting on backoff; retry now delivers it at once', async () => {
    const listed = await cli('retry', 'list', '--json');
    expect(listed.code).toBe(0);
    const { total, deliveries } = JSON.parse(listed.out);
    expect(total).toBe(1);
    expect(deliveries[0]).toMatchObject({ mailbox: 'inbox', webhook: 'receiver', attempts: 1 });
    // Backoff has full jitter; the receiver's Retry-After: 3600 is the floor.
    expect(deliveries[0].nextAttemptAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect((await cli('retry', 'list')).out).toMatch(/1 delivery waiting on backoff$/);

    await receiver.setRespond((r) => (subjectOf(r) === refused.subject ? 400 : 200));
    const now = await cli('retry', 'now', `inbox/${deliveries[0].uidl}`);
    expect(now.code).toBe(0);
    expect(now.out).toContain('attempted now');
    await receiver.waitFor((ds) => ds.some((d) => d.status === 200), 15_000);
    expect((await cli('retry', 'now', deliveries[0].webhookId)).code).toBe(1);
  });

  it('dlq replay --wait: dead again exits 1; delivered exits 0 and the server is emptied', async () => {
    const again = await cli('dlq', 'replay', '--all', '--wait', '--timeout', '20s');
    expect(again.out).toMatch(/dead again: WEBHOOK_HTTP_4XX 400 Bad Request/);
    expect(again.out).toContain('0 delivered, 1 dead again, 0 timed out');
    expect(again.code).toBe(1);

    await receiver.setRespond(200);
    const replay = await cli('dlq', 'replay', '--all', '--wait', '--timeout', '30s');
    expect(replay.out).toMatch(/: delivered/);
    expect(replay.code).toBe(0);
    await waitUntil('the mailbox emptied', async () => (await dovecot.countMessages(USER)) === 0, 15_000);
    expect((await cli('dlq', 'list')).out).toMatch(/^0 dead letters$/);
  });
});
