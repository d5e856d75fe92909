// The ops listener of a real `pophook run` (child process) against a fake POP3 server, a private Redis and
// a verifying receiver: per-mailbox series in /metrics after a poll, /readyz turning 503 for a stale
// mailbox and for a Redis that stops answering (and back to 200), the token guarding the dashboard API,
// and `pophook status --json` describing the same deployment.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';
import { freePort } from '../../helpers/ports.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { get, TOKEN, waitUntil, writeOpsConfig } from './ops-fixture.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let pop3: FakePop3Server;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let pophook: PophookProcess;
let port: number;
let configPath: string;
let failLogins = false;

beforeAll(async () => {
  [pop3, redis, receiver, dir, port] = await Promise.all([
    startFakePop3Server({
      users: { alice: 'alice-ops-pw' },
      messages: smallCorpus(2, 5).map((m) => m.raw),
      overrides: { USER: () => (failLogins ? '-ERR [SYS/TEMP] maintenance\r\n' : undefined) },
    }),
    startRedisServer(),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-ops-')),
    freePort(),
  ]);
  configPath = await writeOpsConfig(
    {
      dir,
      redisUrl: redis.url,
      prefix: `ops${randomBytes(4).toString('hex')}`,
      webhookUrl: receiver.url,
      secret: SECRET,
      pop3: { port: pop3.port, caPem: '', username: 'alice', password: 'alice-ops-pw' },
      mailbox: { tls: 'none', allowPlaintextAuth: true, auth: 'user', ca: undefined },
    },
    { port, token: TOKEN },
  );
  pophook = startPophook(['run', '--config', configPath]);
  await pophook.waitForLog((l) => l.msg === 'ops http listening');
  await waitUntil(
    'both messages delivered',
    () => receiver.deliveries.filter((d) => d.status === 200).length >= 2,
    20_000,
  );
});

afterAll(async () => {
  await pophook?.stop('SIGKILL');
  await Promise.all([pop3?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ops HTTP listener', () => {
  it('serves /healthz and the per-mailbox series on /metrics after a poll', async () => {
    expect((await get(port, '/healthz')).status).toBe(200);
    const metrics = await get(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^pophook_polls_total\{mailbox="inbox",outcome="ok"\} [1-9]/m);
    expect(metrics.text).toMatch(/^pophook_messages_fetched_total\{mailbox="inbox"\} 2$/m);
    expect(metrics.text).toMatch(
      /^pophook_deliveries_total\{webhook="receiver",mailbox="inbox",class="2xx"\} 2$/m,
    );
    expect(metrics.text).toMatch(/^pophook_ledger_entries\{mailbox="inbox",state="dead"\} 0$/m);
    expect(metrics.text).toMatch(/^pophook_last_successful_poll_timestamp_seconds\{mailbox="inbox"\} \d+/m);
    expect(metrics.text).toMatch(/^pophook_queue_jobs\{queue="deliver",state="waiting"\} \d+$/m);
    expect(metrics.text).toMatch(/^pophook_redis_memory_used_bytes \d+$/m);
    const names = metrics.text.match(/^[a-z_]+(?=[{ ])/gm) ?? [];
    expect(names.every((name) => name.startsWith('pophook_'))).toBe(true);
  });

  it('guards the dashboard API with the token', async () => {
    expect((await get(port, '/api/status')).status).toBe(401);
    expect((await get(port, '/api/status', `${TOKEN}x`)).status).toBe(401);
    const status = await get(port, '/api/status', TOKEN);
    expect(status.status).toBe(200);
    expect(status.json().mailboxes[0].id).toBe('inbox');
    expect(status.json()).toMatchObject({ deadLetters: [], waitingOnBackoff: [], waitingOnBackoffCount: 0 });
    expect((await get(port, '/dashboard')).status).toBe(200);
    for (const path of ['/api/dead-letters/replay', '/api/deliveries/retry-now']) {
      const post = (token?: string, body: unknown = { all: true }) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
      expect([path, (await post()).status]).toEqual([path, 401]);
      expect([path, (await post(TOKEN, {})).status]).toEqual([path, 400]);
      expect([path, (await post(TOKEN, { ids: ['msg_none'] })).status]).toEqual([
        path,
        path.includes('replay') ? 404 : 200,
      ]);
    }
  });

  it('pophook status --json describes the deployment', async () => {
    const status = startPophook(['status', '--config', configPath, '--json']);
    expect(await status.exited).toBe(0);
    const lines = status.text.join('\n');
    const snapshot = JSON.parse(lines.slice(lines.indexOf('{')));
    expect(snapshot.mailboxes[0]).toMatchObject({
      id: 'inbox',
      lastOutcome: 'ok',
      ledger: { queued: 0, dead: 0 },
    });
    expect(snapshot.mailboxes[0].nextPollAt).toBeGreaterThan(0);
    expect(snapshot.webhooks[0]).toMatchObject({ id: 'receiver', window: { ok: 2, rate: 1 } });
    expect(Object.keys(snapshot.queues)).toEqual(['poll', 'deliver']);
  });

  it('/readyz turns 503 for a stale mailbox and back to 200 once it polls ok', async () => {
    await waitUntil('ready', async () => (await get(port, '/readyz')).status === 200, 10_000);
    failLogins = true;
    await waitUntil('unready', async () => (await get(port, '/readyz')).status === 503, 10_000);
    const body = (await get(port, '/readyz')).json();
    expect(body.checks.find((c: { name: string }) => c.name === 'mailbox:inbox').ok).toBe(false);
    failLogins = false;
    await waitUntil('ready again', async () => (await get(port, '/readyz')).status === 200, 10_000);
  });

  it('/readyz turns 503 while Redis does not answer and back to 200 after', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const during = await get(port, '/readyz');
      expect(during.status).toBe(503);
      expect(during.json().checks[0]).toMatchObject({ name: 'redis', ok: false });
      await waitUntil('ready again', async () => (await get(port, '/readyz')).status === 200, 10_000);
    } finally {
      admin.disconnect();
    }
  });
});
