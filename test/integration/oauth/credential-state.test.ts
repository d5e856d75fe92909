// A credential the token endpoint refuses, as the operator sees it: the real pollOnce against a fake POP3
// server that takes XOAUTH2 only with a token the fake endpoint issued, a private Redis, `pophook status`
// (text and --json), /readyz's decision (the real Ops) and the pophook_mailbox_state gauge. The mailbox
// shows `credentials` with the provider's text, the password mailbox beside it goes on, no secret appears
// anywhere, and a new secret in the file brings it back.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { PophookMetrics } from '../../../src/ops/metrics.ts';
import { Ops } from '../../../src/ops/ops.ts';
import { readSnapshot, snapshotSources } from '../../../src/ops/snapshot.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import {
  type FakeTokenEndpoint,
  startFakeTokenEndpoint,
  tokenPop3Options,
} from '../../helpers/fake-token-endpoint.ts';
import { inProcessDeployment, plainTextMailbox } from '../../helpers/in-process.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { cli } from '../../helpers/run-cli.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

const SECRET_1 = `first-${randomBytes(12).toString('hex')}`;
const SECRET_2 = `second-${randomBytes(12).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const USER = 'invoices@example.test';

let certs: TestCertificates;
let fake: FakeTokenEndpoint;
let redis: RedisServer;
let oauthPop: FakePop3Server;
let passwordPop: FakePop3Server;
let dir: string;
let configPath: string;
let rt: Runtime;

beforeAll(async () => {
  [certs, redis, dir] = await Promise.all([
    createTestCertificates(),
    startRedisServer({ appendonly: true }),
    mkdtemp(join(tmpdir(), 'pophook-credstate-')),
  ]);
  fake = await startFakeTokenEndpoint({
    tls: certs,
    lifetimeSeconds: 60,
    clients: [{ kind: 'generic', clientId: 'app-x', clientSecret: SECRET_1 }],
  });
  [oauthPop, passwordPop] = await Promise.all([
    startFakePop3Server(tokenPop3Options(fake, certs)),
    startFakePop3Server({ users: { alice: PASSWORD } }),
  ]);
  await Promise.all([
    writeFile(join(dir, 'ca.pem'), certs.caPem),
    writeFile(join(dir, 'client-secret'), `${SECRET_1}\n`),
  ]);
  const document = {
    redis: { url: redis.url, prefix: `cred${randomBytes(3).toString('hex')}` },
    webhooks: {
      rx: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
    },
    credentials: {
      app: {
        type: 'oauth2',
        tokenUrl: fake.genericTokenUrl,
        grant: 'client_credentials',
        clientAuth: 'post',
        clientId: 'app-x',
        clientSecretFile: 'client-secret',
        ca: 'ca.pem',
        failureBackoff: '1s',
      },
    },
    mailboxes: {
      invoices: {
        host: '127.0.0.1',
        port: oauthPop.port,
        tls: 'implicit',
        ca: 'ca.pem',
        username: USER,
        credential: 'app',
        auth: 'xoauth2',
        webhook: 'rx',
        pollInterval: '1m',
      },
      support: plainTextMailbox(passwordPop.port, PASSWORD),
    },
  };
  ({ configPath, rt } = await inProcessDeployment(document, dir));
});

afterAll(async () => {
  await rt?.close();
  await Promise.all([oauthPop?.stop(), passwordPop?.stop(), fake?.stop(), redis?.stop()]);
  await certs?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function poll(id: string): Promise<string> {
  try {
    return (await pollOnce(rt, rt.config.mailboxes[id]!)).outcome;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

async function status(...extra: string[]) {
  const result = await cli(['status', '--config', configPath, ...extra]);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n');
  return { text: result.stdout, row: (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? '' };
}

async function scrape(): Promise<string> {
  const metrics = new PophookMetrics(undefined, { processMetrics: false });
  metrics.setState(await readSnapshot(snapshotSources(rt)));
  return metrics.registry.metrics();
}

async function readiness() {
  return (await Ops.create(rt, { roles: new Set(['poll']), onFatal() {} })).readiness();
}

describe('a refused OAuth credential', () => {
  it('shows credentials with the provider text in status, readiness and the metric; the other mailbox goes on', async () => {
    expect([await poll('invoices'), await poll('support')]).toEqual(['ok', 'ok']);
    expect((await readiness()).ready).toBe(true);

    fake.revoke('app-x');
    // The server refuses the revoked token, the one forced refresh is refused by the endpoint.
    expect(await poll('invoices')).toBe('OAUTH_INVALID_CLIENT');
    expect(await poll('support')).toBe('ok');

    const { text, row } = await status();
    expect(row('invoices')).toMatch(/ credentials OAUTH_INVALID_CLIENT(, next login in \d+ s)? /);
    expect(row('support')).toMatch(/ ok /);
    expect(text).toContain(
      '\n  invoices: OAUTH_INVALID_CLIENT: AADSTS7000222: the client or grant was revoked',
    );

    const json = JSON.parse((await status('--json')).text) as {
      mailboxes: Array<{ id: string; state: Record<string, unknown> }>;
    };
    expect(json.mailboxes.find((m) => m.id === 'invoices')!.state).toMatchObject({
      state: 'credentials',
      code: 'OAUTH_INVALID_CLIENT',
      text: expect.stringMatching(/revoked/),
    });

    const ready = await readiness();
    expect(ready.ready).toBe(false);
    const failing = ready.checks.filter((c) => !c.ok);
    expect(failing.map((c) => c.name)).toEqual(['mailbox:invoices']);
    expect(failing[0]!.detail).toMatch(
      /^credentials OAUTH_INVALID_CLIENT.*: AADSTS7000222: .* \(operator action needed\)$/,
    );

    const scraped = await scrape();
    expect(scraped).toContain('pophook_mailbox_state{mailbox="invoices",state="credentials"} 1');
    expect(scraped).toContain('pophook_mailbox_state{mailbox="support",state="ok"} 1');

    const everything = [text, JSON.stringify(json), JSON.stringify(ready), scraped].join('\n');
    for (const secret of [SECRET_1, SECRET_2, PASSWORD, ...fake.issuedTokens()]) {
      expect(everything.includes(secret), `a secret of ${secret.length} chars shown`).toBe(false);
    }
  });

  it('recovers once a new secret is in the file: ok, the refusal only as past', async () => {
    fake.restore('app-x', { clientSecret: SECRET_2 });
    await writeFile(join(dir, 'client-secret'), `${SECRET_2}\n`);
    // The refused credential is held back for failureBackoff (1 s) across the fleet.
    await sleep(1_100);
    expect(await poll('invoices')).toBe('ok');
    const { text, row } = await status();
    expect(row('invoices')).toMatch(/ ok \(past: OAUTH_INVALID_CLIENT, \d+ s ago\) /);
    expect(text).not.toContain('AADSTS7000222');
    expect(await scrape()).toContain('pophook_mailbox_state{mailbox="invoices",state="ok"} 1');
    expect((await readiness()).ready).toBe(true);
  });
});
