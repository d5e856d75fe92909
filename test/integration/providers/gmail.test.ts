// Gmail as the fake server plays it: a listing of at most 250, QUIT marks what was retrieved as popped
// (hidden from later listings) whatever pophook asks, LOGIN-DELAY 300, and `recent:` mode listing
// everything again. A backlog bigger than one listing is drained completely, one session after another,
// with nothing lost, also when a session dies before its QUIT.
import { describe, expect, it } from 'vitest';
import type { MailboxConfig } from '../../../src/config/index.ts';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { leftForLater } from '../../../src/mailbox/poll-policy.ts';
import { type FakeHandler, faults, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { GMAIL_LISTING_CAP, gmailLike } from '../../helpers/provider-fakes.ts';
import { useProviderRuntime } from './provider-fixture.ts';

const fx = useProviderRuntime('gmail');
const BACKLOG = 600;
const messages = Array.from({ length: BACKLOG }, (_, i) => ({
  uid: `GmailId${(0x1000 + i).toString(16)}`,
  body: `Subject: backlog ${i}\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\nbody ${i}\r\n`,
}));
const USERS = { alice: 'secret', 'recent:alice': 'secret' };

/** Polls as the poll job would: again while the session says more wait behind it, at most `max` times. */
async function drain(mailbox: MailboxConfig, max = 10) {
  const sessions = [];
  for (let i = 0; i < max; i++) {
    const started = Date.now();
    const report = await pollOnce(fx.rt, mailbox).catch((error: unknown) => ({ error, started }));
    sessions.push({ report, started });
    if ('error' in report) continue;
    if (leftForLater(report.result!, mailbox.listingCap) === 0) break;
  }
  return sessions;
}

async function expectAllQueuedIntact(mailbox: MailboxConfig) {
  const entries = await fx.rt.pollState.ledger.entries(mailbox.id);
  expect(entries.size).toBe(BACKLOG);
  for (const m of messages) {
    expect(entries.get(m.uid)?.state, m.uid).toBe('queued');
    expect((await fx.rt.pollState.raw.readBuffer(mailbox.id, m.uid)).toString()).toBe(m.body);
  }
}

describe('Gmail', () => {
  it('drains a backlog bigger than one listing, 250 a session, LOGIN-DELAY honoured between them', async () => {
    const gmail = gmailLike();
    const server = await startFakePop3Server({ messages, users: USERS, ...gmail.options });
    try {
      const mailbox = fx.mailbox(server.port, {
        delete: false,
        provider: 'gmail',
        listingCap: GMAIL_LISTING_CAP,
      });
      const sessions = await drain(mailbox);
      const listed = sessions.map((s) => ('result' in s.report ? s.report.result?.listed : 'error'));
      expect(listed).toEqual([250, 250, 100]);
      for (const { report, started } of sessions) {
        // LOGIN-DELAY 300 (RFC 2449 §6.8), counted from the session's start.
        expect('notBefore' in report && report.notBefore! - started).toBeGreaterThanOrEqual(300_000);
        expect('notBefore' in report && report.notBefore! - started).toBeLessThan(310_000);
      }
      expect(gmail.popped.size).toBe(BACKLOG);
      // Keep mode never sent DELE: Gmail hid the messages by itself at QUIT.
      expect(server.transcript.some((line) => /: DELE/.test(line))).toBe(false);
      await expectAllQueuedIntact(mailbox);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('loses nothing when a session dies before QUIT, and what it stored is popped later, not left filling the listing', async () => {
    // Without the second RETR, the 39 messages stored by the dying session would stay in Gmail's listing
    // for good (listed [250, error, 250, 139], then 39 forever), and enough of them would hide all new mail.
    const gmail = gmailLike();
    const retr = gmail.options.overrides!.RETR!;
    let retrsInSecond = 0;
    const dying: FakeHandler = (command, session) => {
      if (session.id === 2 && ++retrsInSecond === 40) return faults.dropMidRetr()(command, session);
      return retr(command, session);
    };
    const server = await startFakePop3Server({
      messages,
      users: USERS,
      ...gmail.options,
      overrides: { ...gmail.options.overrides, RETR: dying },
    });
    try {
      const mailbox = fx.mailbox(server.port, {
        delete: false,
        listingCap: GMAIL_LISTING_CAP,
        loginDelay: 'ignore',
      });
      const sessions = await drain(mailbox);
      expect(sessions.map((s) => ('error' in s.report ? 'error' : s.report.result?.listed))).toEqual([
        250,
        'error',
        250,
        100,
      ]);
      // loginDelay: ignore: no wait between logins after a session.
      expect(sessions.every((s) => !('notBefore' in s.report) || s.report.notBefore === undefined)).toBe(
        true,
      );
      expect(gmail.popped.size).toBe(BACKLOG);
      await expectAllQueuedIntact(mailbox);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('recent: mode lists popped mail again: the ledger knows every UIDL, nothing is fetched twice, no follow-up', async () => {
    const gmail = gmailLike();
    const server = await startFakePop3Server({ messages, users: USERS, ...gmail.options });
    try {
      const mailbox = fx.mailbox(server.port, {
        delete: false,
        listingCap: GMAIL_LISTING_CAP,
        loginDelay: 'ignore',
      });
      await drain(mailbox);
      const recent = { ...mailbox, username: 'recent:alice' };
      const report = await pollOnce(fx.rt, recent);
      expect(report.result).toMatchObject({ listed: BACKLOG, fetched: 0 });
      expect(leftForLater(report.result!, recent.listingCap)).toBe(0);
      await expectAllQueuedIntact(mailbox);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
