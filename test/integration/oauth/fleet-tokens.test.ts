// OAuth 2.0 end to end with real pophook processes: two `pophook run` processes share tokens through Redis
// over several token lifetimes (3 s) against the fake HTTPS token endpoint, and fake POP3 servers that take
// XOAUTH2 only with an unexpired token the endpoint issued. A Microsoft 365 certificate credential (client
// assertion verified by the fake) and a Google refresh token (from a file) each serve a mailbox. Token
// requests are counted; a revoked grant gives a coded permanent error and recovers once a new refresh token
// is in the file; no secret and no access token appears in any log line.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import {
  createSigningCertificate,
  type FakeTokenEndpoint,
  startFakeTokenEndpoint,
  tokenPop3Options,
} from '../../helpers/fake-token-endpoint.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';
import { waitUntil } from '../../helpers/wait.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const GOOGLE_SECRET = `GOCSPX-${randomBytes(12).toString('hex')}`;
const REFRESH_1 = `1//first-${randomBytes(12).toString('hex')}`;
const REFRESH_2 = `1//second-${randomBytes(12).toString('hex')}`;
const LIFETIME_S = 3;
const M365_USER = 'invoices@contoso.example';
const GMAIL_USER = 'support@gmail.example';

let certs: TestCertificates;
let signing: Awaited<ReturnType<typeof createSigningCertificate>>;
let fake: FakeTokenEndpoint;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let m365Pop: FakePop3Server;
let gmailPop: FakePop3Server;
const processes: PophookProcess[] = [];

beforeAll(async () => {
  [certs, signing, redis, receiver, dir] = await Promise.all([
    createTestCertificates(),
    createSigningCertificate(),
    startRedisServer({ appendonly: true }),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-oauth-fleet-')),
  ]);
  fake = await startFakeTokenEndpoint({
    tls: certs,
    lifetimeSeconds: LIFETIME_S,
    clients: [
      {
        kind: 'microsoft',
        clientId: 'm365-cert-app',
        certificatePem: signing.certPem,
        mailboxes: [M365_USER],
      },
      { kind: 'google', clientId: 'google-app', clientSecret: GOOGLE_SECRET, refreshToken: REFRESH_1 },
    ],
  });
  const pop = () => startFakePop3Server(tokenPop3Options(fake, certs));
  [m365Pop, gmailPop] = await Promise.all([pop(), pop()]);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await Promise.all([m365Pop?.stop(), gmailPop?.stop(), fake?.stop(), redis?.stop(), receiver?.stop()]);
  await certs?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeConfig(prefix: string): Promise<string> {
  await writeFile(join(dir, 'app.key'), signing.keyPem);
  await writeFile(join(dir, 'refresh-token'), `${REFRESH_1}\n`);
  await writeFile(join(dir, 'ca.pem'), certs.caPem);
  const mailbox = (port: number, username: string, credential: string) => ({
    host: '127.0.0.1',
    port,
    tls: 'implicit',
    ca: 'ca.pem',
    username,
    credential,
    auth: 'xoauth2',
    pollInterval: '1s',
    webhook: 'receiver',
  });
  const config = {
    redis: { url: redis.url, prefix },
    webhooks: { receiver: { url: receiver.url, secret: SECRET, timeout: '5s' } },
    credentials: {
      m365: {
        type: 'microsoft365',
        authority: fake.authority,
        tenant: 'contoso.onmicrosoft.com',
        clientId: 'm365-cert-app',
        privateKeyFile: 'app.key',
        thumbprint: signing.sha256,
        ca: 'ca.pem',
        refreshBefore: '1s',
      },
      gmail: {
        type: 'google',
        tokenUrl: fake.googleTokenUrl,
        clientId: 'google-app',
        clientSecret: GOOGLE_SECRET,
        refreshTokenFile: 'refresh-token',
        ca: 'ca.pem',
        refreshBefore: '1s',
        failureBackoff: '1s',
      },
    },
    mailboxes: {
      invoices: mailbox(m365Pop.port, M365_USER, 'm365'),
      support: mailbox(gmailPop.port, GMAIL_USER, 'gmail'),
    },
  };
  const path = join(dir, 'pophook.yml');
  await writeFile(path, JSON.stringify(config));
  return path;
}

let uid = 0;
function drop(server: FakePop3Server, count: number): void {
  for (const message of smallCorpus(count, uid + 7)) {
    uid += 1;
    server.mailbox.push({ uid: `u${uid}`, body: Buffer.from(message.raw) });
  }
}

const delivered = () => receiver.deliveries.filter((d) => d.status === 200).length;

/** Token grants of a client that came less than `gapMs` after the previous one. */
function closeGrants(clientId: string, gapMs: number): number[] {
  const times = fake.requests.filter((r) => r.clientId === clientId && r.status === 200).map((r) => r.at);
  return times
    .slice(1)
    .map((t, i) => t - times[i]!)
    .filter((gap) => gap < gapMs);
}

describe('OAuth 2.0 across a fleet', () => {
  it('two processes deliver everything over several token lifetimes, one token request per renewal', async () => {
    const config = await writeConfig(`oauth${randomBytes(4).toString('hex')}`);
    for (let i = 0; i < 2; i++)
      processes.push(startPophook(['run', '--config', config], { LOG_LEVEL: 'debug' }));
    // Both able to work (parser threads up) before mail starts to arrive and the clock of the bound runs.
    await Promise.all(processes.map((p) => p.waitForLog((l) => l.msg === 'pophook started', 60_000)));
    const started = Date.now();
    let sent = 0;
    // Mail keeps arriving for 12 s (four token lifetimes), and on a busy machine until each credential
    // has had three grants, i.e. logins across several token lifetimes.
    const grantsOf = (client: string) =>
      fake.requests.filter((r) => r.clientId === client && r.status === 200).length;
    const fewGrants = () => Math.min(grantsOf('m365-cert-app'), grantsOf('google-app')) < 3;
    while ((Date.now() - started < 12_000 || fewGrants()) && Date.now() - started < 60_000) {
      drop(m365Pop, 2);
      drop(gmailPop, 2);
      sent += 4;
      await sleep(1_000);
    }
    await waitUntil(
      `${sent} deliveries and empty mailboxes`,
      () => delivered() >= sent && m365Pop.mailbox.length + gmailPop.mailbox.length === 0,
      60_000,
    );
    const byId = receiver.byWebhookId();
    expect(byId.size).toBe(sent);
    // A token is renewed a quarter of its life before it expires: one grant every 2.25 s (1.5 s for MSAL,
    // whose expiresOn is whole seconds, so a 3 s token may look 2 s long) per credential across both
    // processes, counted from its first grant. A duplicate (both processes asking) would come within
    // milliseconds of the other: never two grants within a second.
    for (const client of ['m365-cert-app', 'google-app']) {
      const grants = fake.requests.filter((r) => r.clientId === client && r.status === 200);
      const span = Date.now() - grants[0]!.at;
      const bound = Math.floor(span / (client === 'm365-cert-app' ? 1_500 : 2_250)) + 1;
      const sessions = client === 'google-app' ? gmailPop.sessions.length : m365Pop.sessions.length;
      console.info(
        `oauth fleet: ${client}: ${grants.length} token requests (bound ${bound}) for ${sessions} POP3 logins in ${span} ms`,
      );
      expect(grants.length).toBeGreaterThanOrEqual(3);
      expect(grants.length).toBeLessThanOrEqual(bound);
      expect(closeGrants(client, 1_000)).toEqual([]);
    }
  }, 200_000);

  it('a revoked grant is a coded permanent error in Redis and the logs, and recovers with a new refresh token', async () => {
    const before = delivered();
    fake.revoke('google-app');
    drop(gmailPop, 3);
    await Promise.all(
      processes.map((p) => p.waitForLog((l) => l.msg === 'poll' && l.code === 'OAUTH_INVALID_GRANT', 40_000)),
    );
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*:{oauth:gmail}:errors');
      expect(keys).toHaveLength(1);
      const failure = JSON.parse((await client.hget(keys[0]!, 'app'))!) as Record<string, unknown>;
      expect(failure).toMatchObject({ code: 'OAUTH_INVALID_GRANT', retryable: false });
      expect(String(failure.providerText)).toMatch(/revoked/);
      // Held back: the fleet does not hammer the endpoint while the grant is refused.
      const refusals = fake.requests.filter((r) => r.clientId === 'google-app' && r.status !== 200).length;
      await sleep(1_500);
      const later = fake.requests.filter((r) => r.clientId === 'google-app' && r.status !== 200).length;
      expect(later - refusals).toBeLessThanOrEqual(2);
      // The operator puts a new refresh token in place; no restart.
      fake.restore('google-app', { refreshToken: REFRESH_2 });
      await writeFile(join(dir, 'refresh-token'), `${REFRESH_2}\n`);
      await waitUntil('the gmail mailbox delivers again', () => delivered() >= before + 3, 40_000);
      expect(await client.hget(keys[0]!, 'app')).toBeNull();
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it('secrets-not-logged: no secret, key or access token in any log line of either process', async () => {
    await Promise.all(processes.map((p) => p.stop('SIGTERM')));
    const everything = processes
      .flatMap((p) => [...p.logs.map((l) => JSON.stringify(l)), ...p.text])
      .join('\n');
    expect(everything.length).toBeGreaterThan(1_000);
    const keyBody = signing.keyPem.split('\n')[1]!;
    for (const secret of [GOOGLE_SECRET, REFRESH_1, REFRESH_2, keyBody, ...fake.issuedTokens()]) {
      expect(everything.includes(secret), `a secret of ${secret.length} chars in the logs`).toBe(false);
    }
  }, 60_000);
});
