// The dashboard in a real browser (Debian's chromium through playwright-core) against a real `pophook run`
// with Dovecot, a private Redis and a receiver that first answers 400, so a dead letter exists: the page
// takes the token once from the address, shows the mailbox and the dead letter, and its Replay button
// gets the message delivered (receiver now answering 200) and deleted from the server.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DovecotServer, startDovecot } from '../helpers/dovecot.ts';
import { smallCorpus } from '../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook } from '../helpers/pophook-process.ts';
import { freePort } from '../helpers/ports.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { TOKEN, waitUntil, writeOpsConfig } from '../integration/ops/ops-fixture.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'alice';
const PASSWORD = 'alice-dashboard-pw';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let pophook: PophookProcess;
let browser: Browser;
let port: number;

beforeAll(async () => {
  [dovecot, redis, receiver, dir, port] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer(),
    startReceiver({ secret: SECRET, respond: 400 }),
    mkdtemp(join(tmpdir(), 'pophook-dashboard-')),
    freePort(),
  ]);
  await dovecot.addMessages(
    USER,
    smallCorpus(1, 21).map((m) => m.raw),
  );
  const config = await writeOpsConfig(
    {
      dir,
      redisUrl: redis.url,
      prefix: `dash${randomBytes(4).toString('hex')}`,
      webhookUrl: receiver.url,
      secret: SECRET,
      pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
    },
    { port, token: TOKEN },
  );
  pophook = startPophook(['run', '--config', config]);
  [browser] = await Promise.all([
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
    pophook.waitForLog((l) => l.msg === 'delivery' && l.code === 'WEBHOOK_HTTP_4XX'),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await pophook?.stop('SIGKILL');
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard', () => {
  it('shows the mailbox and the dead letter, and Replay delivers it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?token=${TOKEN}`);
    await page.locator('#mailboxes tbody tr', { hasText: 'inbox' }).waitFor({ timeout: 5_000 });
    expect(new URL(page.url()).search).toBe('');
    const replay = page.locator('#dead tbody button', { hasText: 'Replay' });
    await replay.waitFor({ timeout: 5_000 });
    await expect(page.locator('#dead tbody tr').first().textContent()).resolves.toContain(
      'WEBHOOK_HTTP_4XX 400',
    );
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    await receiver.setRespond(200);
    await replay.click();
    await waitUntil(
      'replayed message delivered and deleted from the server',
      async () =>
        receiver.deliveries.some((d) => d.status === 200) && (await dovecot.countMessages(USER)) === 0,
      15_000,
    );
    await page.locator('#dead tbody tr', { hasText: 'none' }).waitFor({ timeout: 5_000 });
    expect(new Set(receiver.deliveries.map((d) => d.webhookId)).size).toBe(1);
    await page.close();
  });
});
