// The configuration fields that shape payloads: trusted authserv-ids and winmail.dat per mailbox, the
// JSON format per webhook.

import { describe, expect, it } from 'vitest';
import { configText, issuesOf, parse } from './helpers.ts';

describe('mailboxes.<id>.trustedAuthservIds', () => {
  it('is a list of authserv-ids, empty by default', async () => {
    expect((await parse(configText())).mailboxes.support?.trustedAuthservIds).toEqual([]);
    const config = await parse(
      configText((doc) => {
        doc.mailboxes.support.trustedAuthservIds = ['mx1.example.net', 'mx.google.com'];
      }),
    );
    expect(config.mailboxes.support?.trustedAuthservIds).toEqual(['mx1.example.net', 'mx.google.com']);
  });

  it('refuses a string or an empty id, with the path', async () => {
    const issues = await issuesOf(
      parse(
        configText((doc) => {
          doc.mailboxes.support.trustedAuthservIds = 'mx1.example.net';
        }),
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['mailboxes.support.trustedAuthservIds']);
    const empty = await issuesOf(
      parse(
        configText((doc) => {
          doc.mailboxes.support.trustedAuthservIds = [''];
        }),
      ),
    );
    expect(empty.map((issue) => issue.path)).toEqual(['mailboxes.support.trustedAuthservIds[0]']);
  });
});

describe('mailboxes.<id>.winmailDat', () => {
  it('is keep by default, drop when asked, and nothing else', async () => {
    expect((await parse(configText())).mailboxes.support?.winmailDat).toBe('keep');
    const drop = await parse(
      configText((doc) => {
        doc.mailboxes.support.winmailDat = 'drop';
      }),
    );
    expect(drop.mailboxes.support?.winmailDat).toBe('drop');
    const issues = await issuesOf(
      parse(
        configText((doc) => {
          doc.mailboxes.support.winmailDat = 'delete';
        }),
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['mailboxes.support.winmailDat']);
  });
});

describe('webhooks.<id>.format', () => {
  it('is pophook by default, postmark when asked, and nothing else', async () => {
    expect((await parse(configText())).webhooks.tickets?.format).toBe('pophook');
    const postmark = await parse(
      configText((doc) => {
        doc.webhooks.tickets.format = 'postmark';
      }),
    );
    expect(postmark.webhooks.tickets?.format).toBe('postmark');
    const issues = await issuesOf(
      parse(
        configText((doc) => {
          doc.webhooks.tickets.format = 'mailgun';
        }),
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['webhooks.tickets.format']);
  });
});
