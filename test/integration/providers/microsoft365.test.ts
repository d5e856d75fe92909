// Exchange Online as the fake server plays it: LIST sizes 3% under the bytes RETR sends, opaque UIDLs with
// + and /, and its logon-failure and throttling replies. None of it is a protocol error, a message LIST
// said fits is never cut, the UIDLs round-trip through the ledger, raw store and dead letters, and the
// replies become coded errors with their fix.
import { describe, expect, it } from 'vitest';
import { listDeadLetters, selectDeadLetters } from '../../../src/delivery/dead-letters.ts';
import { pollOnce } from '../../../src/mailbox/poll-job.ts';
import { isPop3Error } from '../../../src/pop3/index.ts';
import { webhookIdFor } from '../../../src/queue/ids.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { listUnderReporting } from '../../helpers/provider-fakes.ts';
import { useProviderRuntime } from './provider-fixture.ts';

const fx = useProviderRuntime('m365');

// Exchange's UIDLs look like base64 of its store ids.
const UIDLS = ['AAQkADk3NzU5+/AAA=', 'AAQkADk3NzU5/+BBB=', 'AQMkAGI2+TG93/xY9bQ=='];
const messages = UIDLS.map((uid, i) => ({
  uid,
  body: `Subject: invoice ${i}\r\n\r\n${'x'.repeat(10_000)}\r\n`,
}));

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isPop3Error(error)) return error;
    throw error;
  }
  throw new Error('expected the poll to fail');
}

describe('Microsoft 365', () => {
  it('LIST 3% under RETR: fetched whole, not cut at maxMessageSize, no protocol error', async () => {
    const server = await startFakePop3Server({ messages, overrides: { LIST: listUnderReporting(3) } });
    try {
      const size = messages[0]!.body.length;
      // Above what LIST says (97%), below what RETR sends: cut without a margin.
      const mailbox = fx.mailbox(server.port, { maxMessageBytes: Math.floor(size * 0.99) });
      const report = await pollOnce(fx.rt, mailbox);
      expect(report.result).toMatchObject({ listed: 3, fetched: 3, tooLarge: 0 });
      for (const m of messages) {
        expect((await fx.rt.pollState.ledger.get(mailbox.id, m.uid))?.state).toBe('queued');
        expect((await fx.rt.pollState.raw.readBuffer(mailbox.id, m.uid)).toString()).toBe(m.body);
      }
    } finally {
      await server.stop();
    }
  });

  it('opaque UIDLs with + and / round-trip through ledger keys, raw store and dead letters', async () => {
    const server = await startFakePop3Server({ messages });
    try {
      const mailbox = fx.mailbox(server.port);
      await pollOnce(fx.rt, mailbox);
      const { ledger } = fx.rt.pollState;
      expect([...(await ledger.entries(mailbox.id)).keys()].sort()).toEqual([...UIDLS].sort());
      await ledger.markDelivered(mailbox.id, UIDLS[0]!, { status: 200 });
      await ledger.markDead(mailbox.id, UIDLS[1]!, { code: 'WEBHOOK_HTTP_4XX', status: 422, reason: 'no' });
      expect(await ledger.counts(mailbox.id)).toEqual({ queued: 1, delivered: 1, dead: 1, skipped: 0 });
      const dead = await listDeadLetters(ledger, { [mailbox.id]: mailbox });
      expect(dead.map((d) => d.uidl)).toEqual([UIDLS[1]]);
      // Named by MAILBOX/UIDL (the first / splits: the UIDL keeps its own) or by webhook id.
      const byName = selectDeadLetters(dead, [
        `${mailbox.id}/${UIDLS[1]}`,
        webhookIdFor(mailbox.id, UIDLS[1]!),
      ]);
      expect(byName).toMatchObject({ found: [{ uidl: UIDLS[1] }, { uidl: UIDLS[1] }], missing: [] });
      expect(webhookIdFor(mailbox.id, UIDLS[1]!)).toMatch(/^msg_[0-9a-f]{32}$/);
      // The delivered one is deleted by the next session and its entry forgotten.
      await pollOnce(fx.rt, mailbox);
      expect(server.mailbox.map((m) => m.uid)).toEqual([UIDLS[1], UIDLS[2]]);
      expect(await ledger.get(mailbox.id, UIDLS[0]!)).toBeUndefined();
    } finally {
      await server.stop();
    }
  });

  it.each([
    ['-ERR Logon failure: unknown user name or bad password.', 'POP3_AUTH_FAILED', 'logon-failure'],
    ['-ERR Server Unavailable. 21', 'POP3_SYS_TEMP', 'exchange-server-unavailable'],
    ['-ERR Command rejected.', 'POP3_SYS_TEMP', 'throttled'],
    ['-ERR [SYS/TEMP] Server busy, throttled. Try again later', 'POP3_SYS_TEMP', 'throttled'],
  ])('login answered %s: %s, with its fix', async (reply, code, known) => {
    const server = await startFakePop3Server({ messages, overrides: { PASS: () => `${reply}\r\n` } });
    try {
      const mailbox = fx.mailbox(server.port, { auth: 'user' });
      const error = await failure(pollOnce(fx.rt, mailbox));
      expect(error).toMatchObject({ code, known, retryable: code === 'POP3_SYS_TEMP' });
      const meta = await fx.rt.meta.read(mailbox.id);
      expect(meta.lastError).toBe(code);
      // A refused login backs off (no login before a poll interval has passed); a throttled one is the
      // login-reply states' business (poll-policy.ts), not decided here.
      if (code === 'POP3_AUTH_FAILED') expect(meta.notBefore).toBeGreaterThan(Date.now());
      expect(server.transcript.some((line) => /: (LIST|UIDL|RETR|DELE)/.test(line))).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
