// Onboarding an existing mailbox (startAt) against the fake server and a real Dovecot: `now` records the
// listing as seen and delivers only later mail; a date keeps mail dated on/after it (TOP for all, RETR only
// for the kept; no Date or an unreadable one: kept); skipped mail is never sent DELE; a session that dies
// midway is carried on; `poll --dry-run` changes nothing (ledger keys, server mailbox).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { MailboxConfig, StartAt } from '../../../src/config/index.ts';
import { dryRun } from '../../../src/mailbox/dry-run.ts';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { type FakePop3Server, faults, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { startPophook } from '../../helpers/pophook-process.ts';
import { configDocument, useProviderRuntime } from './provider-fixture.ts';

const fx = useProviderRuntime('onboard');
const SINCE = '2026-06-01';
const SINCE_MS = Date.UTC(2026, 5, 1);
const since: StartAt = { mode: 'date', sinceMs: SINCE_MS, text: SINCE };

const mail = (uid: string, date: string | undefined, subject = uid) => ({
  uid,
  body: `${date === undefined ? '' : `Date: ${date}\r\n`}Subject: ${subject}\r\n\r\nbody of ${uid}\r\n`,
});
const DATED = [
  mail('old-1', 'Mon, 5 Jan 2026 09:00:00 +0000'),
  mail('new-1', 'Mon, 1 Jun 2026 00:00:00 +0000'), // on the date: kept
  mail('old-2', 'Sun, 31 May 2026 23:59:59 -0000'),
  mail('no-date', undefined), // kept: nothing says it is old
  mail('bad-date', 'the day after tomorrow'), // kept
  mail('new-2', 'Wed, 2 Dec 2026 12:00:00 +0100'),
];

async function states(mailbox: MailboxConfig): Promise<Record<string, string>> {
  const entries = await fx.rt.pollState.ledger.entries(mailbox.id);
  return Object.fromEntries([...entries].map(([uidl, entry]) => [uidl, entry.state]));
}

const sent = (server: FakePop3Server, verb: string) =>
  server.transcript.filter((l) => l.startsWith('C[') && l.includes(`: ${verb} `)).length;

describe('startAt against the fake server', () => {
  it('now: the listing is recorded as seen, nothing delivered; later mail is delivered as usual', async () => {
    const server = await startFakePop3Server({ messages: DATED });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: { mode: 'now' } });
      const first = await pollOnce(fx.rt, mailbox);
      expect(first.result).toMatchObject({ listed: 6, skipped: 6, fetched: 0 });
      expect(sent(server, 'RETR') + sent(server, 'TOP')).toBe(0);
      server.mailbox.push({ uid: 'arrived', body: Buffer.from('Subject: hi\r\n\r\nnew\r\n') });
      const second = await pollOnce(fx.rt, mailbox);
      expect(second.result).toMatchObject({ listed: 7, skipped: 0, fetched: 1 });
      expect(await states(mailbox)).toMatchObject({
        arrived: 'queued',
        'old-1': 'skipped',
        'new-2': 'skipped',
      });
      expect(await fx.rt.pollState.ledger.onboarding(mailbox.id)).toMatchObject({
        startAt: 'now',
        skipped: 6,
        kept: 0,
      });
    } finally {
      await server.stop();
    }
  });

  it('a date: headers by TOP for every new message, RETR only for the kept, skipped never deleted', async () => {
    const server = await startFakePop3Server({ messages: DATED });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: since, delete: true });
      const report = await pollOnce(fx.rt, mailbox);
      expect(report.result).toMatchObject({ listed: 6, skipped: 2, fetched: 4 });
      expect(sent(server, 'TOP')).toBe(6);
      expect(sent(server, 'RETR')).toBe(4);
      expect(await states(mailbox)).toEqual({
        'old-1': 'skipped',
        'old-2': 'skipped',
        'new-1': 'queued',
        'no-date': 'queued',
        'bad-date': 'queued',
        'new-2': 'queued',
      });
      // Every kept one delivered: the next session deletes exactly those; the skipped stay on the server.
      for (const uid of ['new-1', 'no-date', 'bad-date', 'new-2'])
        await fx.rt.pollState.ledger.markDelivered(mailbox.id, uid, { status: 200 });
      await pollOnce(fx.rt, mailbox);
      expect(server.mailbox.map((m) => m.uid)).toEqual(['old-1', 'old-2']);
      await pollOnce(fx.rt, mailbox);
      expect(server.mailbox.map((m) => m.uid)).toEqual(['old-1', 'old-2']);
      expect(await states(mailbox)).toEqual({ 'old-1': 'skipped', 'old-2': 'skipped' });
    } finally {
      await server.stop();
    }
  });

  it('a header block past the read bound: decided by what was read, the rest discarded, the next TOP intact', async () => {
    const filler = Array.from({ length: 4000 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(80)}\r\n`).join('');
    const huge = {
      uid: 'huge-old',
      body: `Date: Mon, 5 Jan 2026 09:00:00 +0000\r\n${filler}Subject: big\r\n\r\nbody\r\n`,
    };
    const server = await startFakePop3Server({ messages: [huge, ...DATED] });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: since });
      const report = await pollOnce(fx.rt, mailbox);
      expect(report.result).toMatchObject({ listed: 7, skipped: 3, fetched: 4 });
      expect(await states(mailbox)).toMatchObject({
        'huge-old': 'skipped',
        'new-1': 'queued',
        'old-1': 'skipped',
      });
    } finally {
      await server.stop();
    }
  });

  it('a session that dies midway is carried on: now then holds back only mail dated before it began', async () => {
    const server = await startFakePop3Server({ messages: DATED });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: { mode: 'now' } });
      // The first attempt began at SINCE and recorded two skips before it died.
      await fx.rt.pollState.ledger.setOnboarding(mailbox.id, { startAt: 'now', startedAt: SINCE_MS });
      await fx.rt.pollState.ledger.markSkipped(mailbox.id, ['old-1', 'new-1']);
      const report = await pollOnce(fx.rt, mailbox);
      expect(report.result).toMatchObject({ skipped: 1, fetched: 3 });
      expect(await states(mailbox)).toMatchObject({
        'old-1': 'skipped',
        'new-1': 'skipped',
        'old-2': 'skipped',
        'no-date': 'queued',
        'bad-date': 'queued',
        'new-2': 'queued',
      });
      expect((await fx.rt.pollState.ledger.onboarding(mailbox.id))?.doneAt).toBeGreaterThan(SINCE_MS);
      // Only the four never looked at are read (the two recorded skips are not new any more).
      expect(sent(server, 'TOP')).toBe(4);
    } finally {
      await server.stop();
    }
  });

  it('a connection lost while reading headers: nothing retrieved, the next session finishes', async () => {
    let count = 0;
    const server = await startFakePop3Server({
      messages: DATED,
      overrides: {
        TOP: (command, session) => (++count === 3 ? faults.dropMidRetr(10)(command, session) : undefined),
      },
    });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: since });
      await expect(pollOnce(fx.rt, mailbox)).rejects.toMatchObject({ code: 'POP3_CONNECTION_CLOSED' });
      expect(sent(server, 'RETR')).toBe(0);
      expect(await fx.rt.pollState.ledger.onboarding(mailbox.id)).toMatchObject({ startAt: SINCE });
      const report = await pollOnce(fx.rt, mailbox);
      expect(report.result).toMatchObject({ skipped: 2, fetched: 4 });
    } finally {
      await server.stop();
    }
  });
});

describe('poll --dry-run', () => {
  it('shows what would be deleted, fetched and skipped, and changes nothing', async () => {
    const server = await startFakePop3Server({ messages: DATED });
    try {
      const mailbox = fx.mailbox(server.port, { startAt: since, batchMessages: 2 });
      await fx.rt.pollState.ledger.markDelivered(mailbox.id, 'new-2', { status: 200 });
      const keysBefore = await redisDump();
      const report = await dryRun(fx.rt, mailbox);
      expect(report).toMatchObject({
        outcome: 'ok',
        listed: 6,
        startAt: SINCE,
        delete: { count: 1, sample: [{ uidl: 'new-2', subject: 'new-2' }] },
        skip: { count: 2, sample: [{ uidl: 'old-1' }, { uidl: 'old-2' }] },
        fetch: { count: 2, sample: [{ uidl: 'new-1', subject: 'new-1' }, { uidl: 'no-date' }] },
        remaining: 1,
      });
      expect(await redisDump()).toEqual(keysBefore);
      expect(server.mailbox.map((m) => m.uid)).toEqual(DATED.map((m) => m.uid));
      expect(server.transcript.some((l) => /^C\[\d+\]: (RETR|DELE|QUIT)/.test(l))).toBe(false);
    } finally {
      await server.stop();
    }
  });
});

describe('pophook poll --dry-run, the command', () => {
  it('prints the plan of every mailbox and changes nothing', async () => {
    const server = await startFakePop3Server({ messages: DATED });
    const dir = await mkdtemp(join(tmpdir(), 'pophook-dry-run-'));
    try {
      const path = join(dir, 'pophook.yml');
      const document = configDocument(fx.redis.url, fx.prefix, server.port, { startAt: SINCE });
      await writeFile(path, stringify(document));
      const before = await redisDump();
      const cli = startPophook(['poll', '--dry-run', '--config', path]);
      expect(await cli.exited).toBe(0);
      const text = cli.text.join('\n');
      expect(text).toContain(
        'inbox: 6 listed, start point 2026-06-01 not done yet (dry run: nothing changed)',
      );
      expect(text).toContain('4 would fetch and deliver');
      expect(text).toMatch(/2 would skip .*\n {4}old-1 {2}\d+ {2}old-1\n {4}old-2/);
      expect(await redisDump()).toEqual(before);
      expect(server.transcript.some((l) => /^C\[\d+\]: (RETR|DELE|QUIT)/.test(l))).toBe(false);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** Every key of the test prefix with its value (hashes as maps): what a dry run must leave as it found it. */
async function redisDump(): Promise<Record<string, unknown>> {
  const redis = fx.rt.redis.failFast;
  const keys = (await redis.keys(`${fx.prefix}:*`)).sort();
  const dump: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    dump[key] = type === 'hash' ? await redis.hgetall(key) : type === 'string' ? await redis.get(key) : type;
  }
  return dump;
}

describe('startAt against Dovecot', () => {
  let dovecot: DovecotServer;
  const USER = 'alice';
  beforeAll(async () => {
    dovecot = await startDovecot({ users: { [USER]: 'alice-secret-pw' } });
  }, 30_000);
  afterAll(async () => {
    await dovecot?.stop();
  });

  const dovecotMailbox = (startAt: StartAt) =>
    fx.mailbox(dovecot.pop3Port, {
      host: dovecot.host,
      tls: 'starttls',
      caPem: dovecot.caPem,
      username: USER,
      password: 'alice-secret-pw',
      auth: 'auto',
      startAt,
    });

  it('now, then a date, each onboarding once; dry run leaves the Maildir as it was', async () => {
    await dovecot.clearMailbox(USER);
    await dovecot.addMessages(
      USER,
      DATED.map((m) => Buffer.from(m.body)),
    );
    const now = dovecotMailbox({ mode: 'now' });
    expect((await dryRun(fx.rt, now)).skip?.count).toBe(6);
    expect(await dovecot.countMessages(USER)).toBe(6);
    expect((await pollOnce(fx.rt, now)).result).toMatchObject({ listed: 6, skipped: 6, fetched: 0 });
    await dovecot.addMessages(USER, [Buffer.from(mail('later', 'Thu, 3 Dec 2026 09:00:00 +0000').body)]);
    expect((await pollOnce(fx.rt, now)).result).toMatchObject({ listed: 7, skipped: 0, fetched: 1 });

    const dated = dovecotMailbox(since);
    const report = await pollOnce(fx.rt, dated);
    expect(report.result).toMatchObject({ listed: 7, skipped: 2, fetched: 5 });
    const skippedStates = Object.values(await states(dated)).filter((s) => s === 'skipped');
    expect(skippedStates).toHaveLength(2);
    // Skipped mail stays in the Maildir; the kept mail waits for its delivery before any DELE.
    expect(await dovecot.countMessages(USER)).toBe(7);
  }, 60_000);
});
