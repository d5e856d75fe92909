// Redis reached over TLS with an ACL user, as production should run it: a private redis-server with only a
// TLS port (`--port 0 --tls-port`), the default user off and a `pophook` user with a password. `pophook run`
// with `rediss://pophook:…@` delivers a message end to end (Dovecot → Redis → receiver → DELE). The test CA
// is trusted through the config's `redis.ca`; without it the certificate is refused, and a wrong ACL
// password is refused: the connection is really verified.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook, writeTestConfig } from '../../helpers/pophook-process.ts';
import { freePort } from '../../helpers/ports.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

const USER = 'alice';
const PASSWORD = 'tls-acl-pop3-pw';
const ACL_PASSWORD = 'acl-pw-9f3k2';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let certs: TestCertificates;
let dovecot: DovecotServer;
let receiver: Receiver;
let redis: ChildProcess;
let redisDir: string;
let tlsPort: number;
let dir: string;
const running: PophookProcess[] = [];

async function startTlsRedis(): Promise<void> {
  tlsPort = await freePort();
  redisDir = await mkdtemp(join(tmpdir(), 'pophook-redis-tls-'));
  redis = spawn(
    'redis-server',
    [
      ...[
        '--port',
        '0',
        '--tls-port',
        String(tlsPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        redisDir,
        '--save',
        '',
      ],
      ...[
        '--tls-cert-file',
        certs.certPath,
        '--tls-key-file',
        certs.keyPath,
        '--tls-ca-cert-file',
        certs.caPath,
      ],
      ...['--tls-auth-clients', 'no', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes'],
      ...['--user', 'default', 'off', '--user', 'pophook', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all'],
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (redis.exitCode !== null) throw new Error(`redis-server exited with ${redis.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(tlsPort, '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error('TLS redis-server did not start');
}

beforeAll(async () => {
  certs = await createTestCertificates();
  dir = await mkdtemp(join(tmpdir(), 'pophook-tls-acl-'));
  [dovecot, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startReceiver({ secret: SECRET }),
    startTlsRedis(),
  ]);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  if (redis && redis.exitCode === null) {
    const exited = new Promise((resolve) => redis.once('exit', resolve));
    redis.kill('SIGTERM');
    await exited;
  }
  await Promise.all([dovecot?.stop(), receiver?.stop(), certs?.cleanup()]);
  await rm(dir, { recursive: true, force: true });
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
});

/** Each call gets its own directory: two processes started together must not read each other's file. */
async function configFor(password: string, trustCa = true): Promise<string> {
  return writeTestConfig({
    dir: await mkdtemp(join(dir, 'config-')),
    redisUrl: `rediss://pophook:${password}@127.0.0.1:${tlsPort}`,
    prefix: `tls${randomBytes(3).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    ...(trustCa ? { redis: { ca: certs.caPath } } : {}),
  });
}

function start(args: string[], env: NodeJS.ProcessEnv): PophookProcess {
  const child = startPophook(args, env);
  running.push(child);
  return child;
}

it('pophook run over rediss:// with an ACL user delivers a message end to end', async () => {
  await dovecot.addMessages(
    USER,
    smallCorpus(1, 21).map((m) => m.raw),
  );
  const pophook = start(['run', '--config', await configFor(ACL_PASSWORD)], {});
  await pophook.waitForLog((l) => l.msg === 'deliveries' && l.delivered === 1, 30_000);
  const deadline = Date.now() + 15_000;
  while ((await dovecot.countMessages(USER)) > 0 && Date.now() < deadline) await sleep(200);
  expect(await dovecot.countMessages(USER)).toBe(0);
  expect(receiver.deliveries.filter((d) => d.status === 200 && d.verified)).toHaveLength(1);
  expect(await pophook.stop('SIGTERM')).toBe(0);
  const everything = [...pophook.text, ...pophook.logs.map((l) => JSON.stringify(l))].join('\n');
  expect(everything).not.toContain(ACL_PASSWORD);
});

it('without the CA the Redis certificate is refused; with a wrong ACL password the login is refused', async () => {
  const untrusted = start(['run', '--config', await configFor(ACL_PASSWORD, false)], {});
  const wrong = start(['run', '--config', await configFor('not-the-password')], {});
  const [certError, authError] = await Promise.all([
    untrusted.waitForLog((l) => l.event === 'redis-down', 15_000),
    wrong.waitForLog((l) => l.event === 'redis-down', 15_000),
  ]);
  expect(String(certError.error)).toMatch(/certificate|self.signed|verify/i);
  expect(String(authError.error)).toMatch(/WRONGPASS|NOAUTH|invalid username-password/i);
  for (const p of [untrusted, wrong]) {
    await p.stop('SIGKILL');
    expect([...p.text, ...p.logs.map((l) => JSON.stringify(l))].join('\n')).not.toContain(ACL_PASSWORD);
  }
});
