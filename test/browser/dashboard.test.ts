// The dashboard in a real browser (Debian's chromium through playwright-core) as a person uses it, against a
// real `pophook run` with Dovecot, a private Redis and a receiver that refuses one message for good (400
// with a body: a dead letter) and the other for now (503 with Retry-After: an hour: waiting on backoff),
// with a second mailbox whose password is wrong. The person logs in with the form, sees the failing
// mailbox (its state, next login and the server's words; a failure an ok poll put in the past only as
// past), the dead letter with its reason and the receiver's answer, and the waiting delivery; once the
// receiver is fixed, Retry now and Replay get both delivered and deleted from the server. `?token=` logs
// in too and leaves the address bar. The screenshot is the README's (POPHOOK_UPDATE_SCREENSHOT=1 writes
// docs/dashboard.png; otherwise it goes to test/browser/artifacts/).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mailboxKeys } from '../../src/ledger/index.ts';
import { type DovecotServer, startDovecot } from '../helpers/dovecot.ts';
import { type CorpusMessage, smallCorpus } from '../helpers/mail-corpus.ts';
import { type PophookProcess, startPophook } from '../helpers/pophook-process.ts';
import { freePort } from '../helpers/ports.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { refuseOneDelayOthers, SLOW_RETRY, subjectOf } from '../helpers/refusing-receiver.ts';
import { TOKEN, waitUntil, writeOpsConfig } from '../integration/ops/ops-fixture.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'alice';
const PASSWORD = 'alice-dashboard-pw';
const SCREENSHOT = process.env.POPHOOK_UPDATE_SCREENSHOT
  ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
  : fileURLToPath(new URL('./artifacts/dashboard.png', import.meta.url));
const REFUSAL = '{"error":"unknown customer","field":"from"}';
const PREFIX = `dash${randomBytes(4).toString('hex')}`;

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;
let pophook: PophookProcess;
let browser: Browser;
/** The receiver's requests for messages, without the message.dead events sent to the same webhook. */
const mail = () => receiver.deliveries.filter((d) => (d.json as { type?: string }).type === undefined);
let port: number;
let refused: CorpusMessage;
let waiting: CorpusMessage;

beforeAll(async () => {
  [dovecot, redis, receiver, dir, port] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer(),
    startReceiver({ secret: SECRET }),
    mkdtemp(join(tmpdir(), 'pophook-dashboard-')),
    freePort(),
  ]);
  [refused, waiting] = smallCorpus(2, 21) as [CorpusMessage, CorpusMessage];
  await refuseOneDelayOthers(receiver, refused.subject, {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: REFUSAL,
  });
  await dovecot.addMessages(USER, [refused.raw, waiting.raw]);
  const path = await writeOpsConfig(
    {
      dir,
      redisUrl: redis.url,
      prefix: PREFIX,
      webhookUrl: receiver.url,
      secret: SECRET,
      pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
      webhook: SLOW_RETRY,
    },
    { port, token: TOKEN },
  );
  // A second mailbox on the same server with a wrong password: the failing one.
  const config = parse(await readFile(path, 'utf8'));
  config.mailboxes.support = { ...config.mailboxes.inbox, password: 'not-the-password', pollInterval: '5s' };
  await writeFile(path, stringify(config));
  pophook = startPophook(['run', '--config', path]);
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
    pophook.waitForLog((l) => l.msg === 'delivery' && l.outcome === 'dead-letter', 60_000),
    pophook.waitForLog((l) => l.msg === 'delivery' && l.outcome === 'retry', 60_000),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pophook?.stop('SIGKILL');
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard', () => {
  it('?token= logs in once and leaves the address bar', async () => {
    // Drops (routes) and duplicates (dedupe) are counted in the mailbox's meta; the page shows both.
    const admin = new Redis(redis.url);
    await admin.hset(mailboxKeys(PREFIX, 'support').meta, { dropped: '7', duplicates: '3' });
    await admin.quit();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?token=${TOKEN}`);
    await page.locator('#mailboxes tbody tr', { hasText: 'inbox' }).waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).search).toBe('');
    const headers = await page.locator('#mailboxes thead th').allTextContents();
    const cells = await page
      .locator('#mailboxes tbody tr', { hasText: 'support' })
      .locator('td')
      .allTextContents();
    expect([cells[headers.indexOf('Dropped')], cells[headers.indexOf('Duplicates')]]).toEqual(['7', '3']);
    await page.close();
  });

  it('login, the failing mailbox, the dead letter and its answer; Retry now and Replay deliver both', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/dashboard`);
    await page.locator('#token').fill(`${TOKEN}x`);
    await page.locator('#login button').click();
    await page.locator('#status', { hasText: 'token refused' }).waitFor({ timeout: 10_000 });
    await page.locator('#token').fill(TOKEN);
    await page.locator('#login button').click();

    const support = page.locator('#mailboxes tbody tr', { hasText: 'support' });
    await support.locator('.bad', { hasText: 'POP3_AUTH' }).waitFor({ timeout: 20_000 });
    await page
      .locator('#mailboxes tbody tr', { hasText: 'inbox' })
      .locator('.ok')
      .waitFor({ timeout: 10_000 });
    // The failing mailbox's state as `pophook status` shows it, with Dovecot's own words (the next login is
    // shown while it lies ahead: between it and the next scheduled poll the row says only the state).
    await page
      .locator('#mailboxes tbody tr', {
        hasText: /credentials POP3_AUTH_FAILED.*, next login in \d+ (s|min)/,
      })
      .filter({ hasText: 'support' })
      .waitFor({ timeout: 20_000 });
    await expect(support.textContent()).resolves.toContain('Authentication failed.');
    // A failure an ok poll put in the past shows as past, never as the state of a mailbox that is ok.
    const admin = new Redis(redis.url);
    try {
      const lastErrorAt = Date.now() - 60_000;
      await admin.hset(mailboxKeys(PREFIX, 'inbox').meta, {
        lastError: 'POP3_SYS_TEMP',
        lastErrorText: 'maintenance',
        lastErrorAt,
        failures: 2,
      });
    } finally {
      admin.disconnect();
    }
    const healed = page.locator('#mailboxes tbody tr', { hasText: 'inbox' }).locator('.ok');
    await healed.filter({ hasText: 'past: POP3_SYS_TEMP ×2' }).waitFor({ timeout: 10_000 });
    await expect(healed.textContent()).resolves.toMatch(/^ok \(past: POP3_SYS_TEMP ×2, \d+ s ago\)$/);
    await expect(
      page.locator('#mailboxes tbody tr', { hasText: 'inbox' }).textContent(),
    ).resolves.not.toContain('maintenance');

    const dead = page.locator('#dead tbody tr', { hasText: refused.subject });
    await dead.waitFor({ timeout: 10_000 });
    const deadText = await dead.textContent();
    expect(deadText).toContain('WEBHOOK_HTTP_4XX');
    expect(deadText).toContain(refused.from.address);
    expect(deadText).toContain('400 Bad Request');
    await dead.locator('summary').click();
    await expect(dead.locator('pre').textContent()).resolves.toBe(REFUSAL);

    const backoff = page.locator('#backoff tbody tr', { hasText: 'the webhook answered 503' });
    await backoff.waitFor({ timeout: 10_000 });
    await expect(backoff.textContent()).resolves.toMatch(/in \d+ min/);

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await receiver.setRespond(200);
    await backoff.locator('button', { hasText: 'Retry now' }).click();
    await receiver.waitFor(
      (ds) => ds.some((d) => d.status === 200 && subjectOf(d) === waiting.subject),
      15_000,
    );
    await page.locator('#backoff tbody tr', { hasText: 'none' }).waitFor({ timeout: 10_000 });

    await dead.locator('button', { hasText: 'Replay' }).click();
    await waitUntil(
      'both messages delivered and deleted from the server',
      async () =>
        mail().filter((d) => d.status === 200).length === 2 && (await dovecot.countMessages(USER)) === 0,
      20_000,
    );
    await page.locator('#dead tbody tr', { hasText: 'none' }).waitFor({ timeout: 10_000 });
    expect(new Set(mail().map((d) => d.webhookId)).size).toBe(2);
    // The refused message's dead letter was announced to the same webhook.
    expect(receiver.deliveries.length).toBeGreaterThan(mail().length);
    await page.close();
  });
});
