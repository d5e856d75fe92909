// secrets-not-logged, for the whole product: a full pipeline scenario (a delivery, a 4xx dead letter, 5xx
// retries) at debug level, then `check`, `check` and `poll --once` with a wrong POP3 password, `probe` with
// POPHOOK_PASSWORD, `dlq list` (text and JSON) and `status --json`. Every line every process printed is
// kept, and none of the distinctive secrets (POP3 password, webhook secret, Authorization token, Redis ACL
// password) appears in it, nor their base64 forms (SASL PLAIN and LOGIN send base64 on the wire).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const USER = 'alice';
const POP3_PASSWORD = 'Pop3-Zebra-7731';
const WRONG_PASSWORD = 'Wrong-Zebra-7732';
const TOKEN = 'AuthTok-Zebra-7733';
const ACL_PASSWORD = 'AclPw-Zebra-7734';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
const printed: string[] = [];

function message(subject: string): Buffer {
  return Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-secrets-'));
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: POP3_PASSWORD } }),
    startRedisServer({
      appendonly: true,
      extraArgs: [
        '--user',
        'default',
        'off',
        '--user',
        'pophook',
        'on',
        `>${ACL_PASSWORD}`,
        '~*',
        '&*',
        '+@all',
      ],
    }),
    startReceiver({ secret: SECRET }),
  ]);
});

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function config(password: string, name: string): Promise<string> {
  return writeTestConfig({
    dir: join(dir, name),
    redisUrl: `redis://pophook:${ACL_PASSWORD}@127.0.0.1:${redis.port}`,
    prefix: 'secrets',
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password },
    webhook: { retryDelay: '200ms', retryMaxDelay: '500ms', headers: { Authorization: `Bearer ${TOKEN}` } },
  });
}

/** Runs a one-shot command to its end and keeps everything it printed. */
async function once(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  const child = startPophook(args, { LOG_LEVEL: 'debug', ...env });
  const code = await child.exited;
  keep(child);
  return code;
}

function keep(child: PophookProcess): void {
  printed.push(...child.text, ...child.logs.map((line) => JSON.stringify(line)));
}

it('no secret, nor its base64, in anything any pophook process printed', async () => {
  await Promise.all(['good', 'bad'].map((name) => mkdir(join(dir, name))));
  const good = await config(POP3_PASSWORD, 'good');
  const bad = await config(WRONG_PASSWORD, 'bad');
  await dovecot.addMessages(USER, [message('ok'), message('reject'), message('flaky')]);
  await receiver.setRespond(({ json, attempt }) => {
    const subject = (json as { subject?: string } | undefined)?.subject;
    if (subject === 'reject') return 400;
    if (subject === 'flaky' && attempt < 3) return 503;
    return 200;
  });

  const run = startPophook(['run', '--config', good], { LOG_LEVEL: 'debug' });
  try {
    await waitUntil(
      'a delivery, a dead letter and a delivery after retries',
      () =>
        receiver.deliveries.filter((d) => d.status === 200).length === 2 &&
        receiver.deliveries.some((d) => d.status === 400),
      30_000,
    );
    await waitUntil(
      'the delivered messages deleted',
      async () => (await dovecot.countMessages(USER)) === 1,
      15_000,
    );
  } finally {
    await run.stop('SIGTERM');
    keep(run);
  }
  expect(receiver.deliveries.some((d) => d.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);

  const codes = await Promise.all([
    once(['check', '--config', good]),
    once(['check', '--config', bad]),
    once(['poll', 'inbox', '--once', '--config', bad]),
    once(['dlq', 'list', '--config', good]),
    once(['dlq', 'list', '--json', '--config', good]),
    once(
      [
        'probe',
        '--host',
        '127.0.0.1',
        '--port',
        String(dovecot.pop3sPort),
        '--tls',
        'implicit',
        '--user',
        USER,
      ],
      {
        POPHOOK_PASSWORD: POP3_PASSWORD,
        NODE_EXTRA_CA_CERTS: join(dir, 'good', 'ca.pem'),
      },
    ),
  ]);
  expect(codes).toEqual([0, 1, 1, 0, 0, 0]);
  // status may report problems (exit 1) in this scenario; only what it prints matters here.
  await once(['status', '--json', '--config', good]);

  const haystack = printed.join('\n');
  // The scenario really happened and was logged: the test looks at the right place.
  expect(haystack).toMatch(/POP3_AUTH_FAILED/);
  expect(haystack).toMatch(/WEBHOOK_HTTP_4XX/);
  expect(haystack).toMatch(/"outcome":"retry"/);
  expect(haystack).toMatch(/1 dead letter/);
  expect(haystack).toMatch(/pop3 transcript/);
  for (const secret of [
    POP3_PASSWORD,
    WRONG_PASSWORD,
    TOKEN,
    ACL_PASSWORD,
    SECRET,
    SECRET.slice('whsec_'.length),
  ]) {
    for (const form of encodings(secret))
      expect(haystack, `a form of ${secret.slice(0, 6)}…`).not.toContain(form);
  }
}, 90_000);

/** The secret, its base64, and the SASL PLAIN and LOGIN payloads that carry it. */
function encodings(secret: string): string[] {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [secret, b64(secret), b64(`\0${USER}\0${secret}`), encodeURIComponent(secret)];
}
