// `pophook check` and `pophook probe --credential` acquire a token and log in with it, and name the step
// that failed: token endpoint, scope, SASL exchange or mailbox permission. Run in-process with captured
// streams against the fake HTTPS token endpoint and a fake POP3 server that takes only tokens it issued.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../workers/main.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import {
  type FakeTokenEndpoint,
  startFakeTokenEndpoint,
  tokenPop3Options,
} from '../../helpers/fake-token-endpoint.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

const CLIENT_SECRET = `m365~${randomBytes(12).toString('hex')}`;
const WRONG_SECRET = `wrong~${randomBytes(12).toString('hex')}`;
const ALLOWED = 'invoices@contoso.example';
const DENIED = 'ceo@contoso.example';

let certs: TestCertificates;
let fake: FakeTokenEndpoint;
let pop: FakePop3Server;
let plainOnly: FakePop3Server;
let redis: RedisServer;
let dir: string;
let configPath: string;

beforeAll(async () => {
  [certs, redis, dir] = await Promise.all([
    createTestCertificates(),
    startRedisServer(),
    mkdtemp(join(tmpdir(), 'pophook-oauth-check-')),
  ]);
  fake = await startFakeTokenEndpoint({
    tls: certs,
    lifetimeSeconds: 60,
    clients: [{ kind: 'microsoft', clientId: 'app', clientSecret: CLIENT_SECRET, mailboxes: [ALLOWED] }],
  });
  const server = (sasl: string[]) =>
    startFakePop3Server({
      ...tokenPop3Options(fake, certs, sasl),
      messages: ['Subject: hi\r\n\r\nhello\r\n'],
    });
  [pop, plainOnly] = await Promise.all([server(['XOAUTH2']), server(['PLAIN'])]);
  await writeFile(join(dir, 'ca.pem'), certs.caPem);
  const credential = (extra: Record<string, unknown>) => ({
    type: 'microsoft365',
    authority: fake.authority,
    tenant: 'contoso.onmicrosoft.com',
    clientId: 'app',
    clientSecret: CLIENT_SECRET,
    ca: 'ca.pem',
    ...extra,
  });
  const mailbox = (username: string, credentialId: string, port = pop.port) => ({
    host: '127.0.0.1',
    port,
    tls: 'implicit',
    ca: 'ca.pem',
    username,
    credential: credentialId,
    auth: 'xoauth2',
    webhook: 'hook',
  });
  const config = {
    redis: { url: redis.url },
    webhooks: {
      hook: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
    },
    credentials: {
      good: credential({}),
      bad: credential({ clientSecret: WRONG_SECRET }),
      narrow: credential({ scope: 'https://outlook.office365.com/POP.AccessAsUser.All' }),
    },
    mailboxes: {
      ok: mailbox(ALLOWED, 'good'),
      denied: mailbox(DENIED, 'good'),
      badsecret: mailbox(ALLOWED, 'bad'),
      badscope: mailbox(ALLOWED, 'narrow'),
      nosasl: mailbox(ALLOWED, 'good', plainOnly.port),
    },
  };
  configPath = join(dir, 'pophook.yml');
  await writeFile(configPath, JSON.stringify(config));
});

afterAll(async () => {
  await Promise.all([pop?.stop(), plainOnly?.stop(), fake?.stop(), redis?.stop()]);
  await certs?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: {}, stdin: new PassThrough(), isTTY: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function expectNoSecrets(text: string): void {
  for (const secret of [CLIENT_SECRET, WRONG_SECRET, ...fake.issuedTokens()]) {
    expect(text.includes(secret)).toBe(false);
  }
}

describe('pophook check with OAuth credentials', () => {
  it('logs in with a token and names the failing step of each broken mailbox', async () => {
    const { code, stdout } = await run(['check', '--json', '--config', configPath]);
    expect(code).toBe(1);
    const results = JSON.parse(stdout) as Array<{ check: string; ok: boolean; detail: string }>;
    const line = (id: string) => results.find((r) => r.check === `mailbox ${id}`)!;
    expect(line('ok')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('token of credential good'),
    });
    expect(line('badsecret').detail).toMatch(/^credential bad, token endpoint failed: OAUTH_INVALID_CLIENT/);
    expect(line('badscope').detail).toMatch(/^credential narrow, scope failed: OAUTH_INVALID_SCOPE/);
    expect(line('nosasl').detail).toMatch(/^credential good, SASL exchange failed: POP3_AUTH_UNSUPPORTED/);
    expect(line('denied').detail).toMatch(/^credential good, mailbox permission failed: POP3_AUTH_FAILED/);
    expectNoSecrets(stdout);
  });
});

describe('pophook probe --credential', () => {
  /** `pophook probe --json` against `port`, logged in as `user` with a token of `credential`. */
  const probeAs = (user: string, credential: string, port = pop.port) =>
    run(
      [
        'probe',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--tls',
        'implicit',
        '--ca',
        join(dir, 'ca.pem'),
      ].concat(['--user', user, '--config', configPath, '--credential', credential, '--json']),
    );

  it('acquires a token, logs in with XOAUTH2 and lists the mailbox', async () => {
    const { code, stdout } = await probeAs(ALLOWED, 'good');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { login: { status: string }; mailbox: { count: number } };
    expect(report.login.status).toBe('ok');
    expect(report.mailbox.count).toBe(1);
    expectNoSecrets(stdout);
  });

  it('names the step: token endpoint, mailbox permission', async () => {
    const bad = await probeAs(ALLOWED, 'bad');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      phase: 'token endpoint',
      code: 'OAUTH_INVALID_CLIENT',
    });
    const denied = await probeAs(DENIED, 'good');
    expect(JSON.parse(denied.stdout).error).toMatchObject({
      phase: 'mailbox permission',
      code: 'POP3_AUTH_FAILED',
    });
    expectNoSecrets(bad.stdout + bad.stderr + denied.stdout + denied.stderr);
  });

  it('--credential without --config or --user is a usage error (exit 2)', async () => {
    const target = ['probe', '--host', '127.0.0.1', '--port', String(pop.port), '--tls', 'implicit'];
    expect((await run([...target, '--credential', 'good'])).code).toBe(2);
    expect((await run([...target, '--config', configPath])).code).toBe(2);
  });
});
