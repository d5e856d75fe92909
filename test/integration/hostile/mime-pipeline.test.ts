// Hostile MIME through the whole pipeline: a corpus generated here (a multipart without boundary, 10,000
// parts, 100-deep nesting, a 1 MB header line, a huge format=flowed part, NUL bytes, unknown charsets and
// encodings, a 3 MB base64 attachment of zeros, a 50,000-address To header) goes through a real `pophook run`
// with Dovecot, a private Redis and a verifying receiver, under the default delivery limits. Each message is
// delivered, or dead-lettered with its limit named in `pophook dlq list --json` and left on the server; the
// worker stays up and its memory (VmRSS from /proc) stays bounded.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSize } from '../../../src/config/index.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

const USER = 'alice';
const PASSWORD = 'mime-pipeline-pw';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
/** Generous: the process holds a few copies of a 4 MB message and two parse threads. */
const MAX_RSS_BYTES = 1024 * 1024 * 1024;

const head = (subject: string, extra = '') =>
  `From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@test>\r\n${extra}`;

function nested(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    close = `--b${i}--\r\n${close}`;
  }
  return `${open}Content-Type: text/plain\r\n\r\ndeep\r\n${close}`;
}

const base64Lines = (bytes: Buffer) => bytes.toString('base64').replace(/.{76}/g, '$&\r\n');

/** Subject → [raw message, expected dead-letter reason (the limit and its default) or null: delivered]. */
const CORPUS: Record<string, [string | Buffer, RegExp | null]> = {
  'missing-boundary': [
    `${head('missing-boundary', 'Content-Type: multipart/mixed\r\n')}\r\n--x\r\nhello\r\n`,
    null,
  ],
  'ten-thousand-parts': [
    `${head('ten-thousand-parts', 'Content-Type: multipart/mixed; boundary=b\r\n')}\r\n${'--b\r\nContent-Type: text/plain\r\n\r\np\r\n'.repeat(10_000)}--b--\r\n`,
    /maxParts \(1000\)/,
  ],
  'deep-nesting': [`${head('deep-nesting')}${nested(100)}`, /maxDepth \(20\)/],
  'huge-header': [
    `${head('huge-header', `X-Long: ${'h'.repeat(1024 * 1024)}\r\n`)}\r\nbody\r\n`,
    new RegExp(`maxHeaderBytes \\(${parseSize('1MB')}\\)`),
  ],
  flowed: [
    `${head('flowed', 'Content-Type: text/plain; format=flowed; delsp=yes\r\n')}\r\n${`${'word '.repeat(15)}\r\n`.repeat(25_000)}end\r\n`,
    null,
  ],
  'nul-bytes': [`${head('nul-bytes')}\r\nnul \0 bytes \0\0 here\r\n`, null],
  'bad-charset': [
    Buffer.from(
      `${head('bad-charset', 'Content-Type: text/plain; charset=x-no-such\r\nContent-Transfer-Encoding: x-unknown\r\n')}\r\n\xff\xfe =ZZ bytes\r\n`,
      'latin1',
    ),
    null,
  ],
  'base64-zeros': [
    `${head('base64-zeros', 'Content-Type: multipart/mixed; boundary=z\r\n')}\r\n--z\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=bomb.gz\r\n\r\n${base64Lines(Buffer.alloc(3 * 1024 * 1024))}\r\n--z--\r\n`,
    null,
  ],
  'many-addresses': [
    `From: a@example.test\r\nSubject: many-addresses\r\nTo: ${Array.from({ length: 50_000 }, (_, i) => `u${i}@e.t`).join(',')}\r\n\r\nbody\r\n`,
    null,
  ],
};

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-mime-'));
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET, respond: 200 }),
  ]);
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** The receiver's requests for messages; the others are the dead letters' message.dead events. */
const mail = () => receiver.deliveries.filter((d) => (d.json as { type?: string }).type === undefined);

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

it('every hostile message is delivered or dead-lettered with its reason; the worker survives, memory bounded', async () => {
  await dovecot.addMessages(
    USER,
    Object.values(CORPUS).map(([raw]) => Buffer.from(raw)),
  );
  // No `delivery` limits in the file: the defaults are what is tested.
  const configPath = await writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix: `mime${randomBytes(3).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
  });
  const pophook = startPophook(['run', '--config', configPath]);
  const expectedDead = Object.values(CORPUS).filter(([, reason]) => reason !== null).length;
  const expectedDelivered = Object.keys(CORPUS).length - expectedDead;
  let peak = 0;
  try {
    const deadline = Date.now() + 45_000;
    const deadLogs = () => pophook.logs.filter((l) => l.msg === 'delivery' && l.outcome === 'dead-letter');
    const done = async () =>
      mail().filter((d) => d.status === 200).length === expectedDelivered &&
      receiver.deliveries.length - mail().length === expectedDead &&
      deadLogs().length === expectedDead &&
      (await dovecot.countMessages(USER)) === expectedDead;
    while (!(await done())) {
      expect(Date.now(), 'all messages handled in time').toBeLessThan(deadline);
      expect(pophook.child.exitCode, 'the worker process stays up').toBeNull();
      peak = Math.max(peak, await rssBytes(pophook.child.pid!));
      await sleep(200);
    }
    expect(pophook.child.exitCode).toBeNull();
    expect(pophook.logs.filter((l) => l.level >= 50)).toEqual([]);
  } finally {
    await pophook.stop('SIGTERM');
  }
  expect(peak).toBeGreaterThan(0);
  expect(peak).toBeLessThan(MAX_RSS_BYTES);

  const subjects = mail()
    .map((d) => (d.json as { subject: string }).subject)
    .sort();
  const deliverable = Object.entries(CORPUS).filter(([, [, reason]]) => reason === null);
  expect(subjects).toEqual(deliverable.map(([subject]) => subject).sort());
  expect(receiver.deliveries.every((d) => d.verified)).toBe(true);

  const list = startPophook(['dlq', 'list', '--json', '--config', configPath]);
  expect(await list.exited).toBe(0);
  const letters = JSON.parse(list.text.join('\n')) as Array<{
    entry: { lastError: { code: string; reason: string } };
  }>;
  expect(letters.map((l) => l.entry.lastError.code)).toEqual(Array(expectedDead).fill('PAYLOAD_LIMIT'));
  const reasons = letters.map((l) => l.entry.lastError.reason);
  for (const [, [, reason]] of Object.entries(CORPUS)) {
    if (reason)
      expect(
        reasons.some((r) => reason.test(r)),
        String(reason),
      ).toBe(true);
  }
}, 90_000);
