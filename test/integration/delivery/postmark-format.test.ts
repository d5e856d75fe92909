// webhooks.<id>.format: postmark, end to end: a small message (one-Buffer path) and a big one (the streamed
// spool path) reach a receiver that verifies the Standard Webhooks signature, in Postmark's field names.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { STREAM_THRESHOLD_BYTES } from '../../../src/delivery/prepared-payload.ts';
import { bigMessage } from '../../helpers/mail-corpus.ts';
import { deliverJob, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

const REPLY = Buffer.from(
  [
    'Delivered-To: support+acme@example.net',
    'From: "Müller, Jörg" <joerg@customer.example>',
    'To: Support <support+acme@example.net>, b@example.org',
    'Cc: "Carol" <carol@example.com>',
    'Reply-To: replies@customer.example',
    'Subject: =?UTF-8?Q?Re:_Angebot_=E2=82=AC_100?=',
    'Date: Tue, 01 Jul 2025 10:52:37 +0200',
    'Message-ID: <reply-1@customer.example>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Passt so.',
    '',
    'Am 01.07.2025 um 09:00 schrieb Support <support@example.net>:',
    '> Anbei das Angebot.',
    '',
  ].join('\r\n'),
);

type Postmark = Record<string, unknown> & { Attachments: Array<Record<string, unknown>> };

async function deliver(uidl: string, raw: Buffer): Promise<Postmark> {
  const deps = fx.deps({ timeoutMs: 60_000, format: 'postmark' });
  const stored = await deps.raw.write('inbox', uidl, [raw], { ttlMs: 600_000 });
  await deps.ledger.markQueued('inbox', uidl, { size: stored.size, webhookId: `msg_${uidl}` });
  expect(await attemptDelivery(deps, deliverJob(uidl, stored.size))).toEqual({
    outcome: 'accepted',
    status: 200,
  });
  const delivery = fx.receiver.deliveries.find((d) => d.headers['webhook-id'] === `msg_${uidl}`);
  expect(delivery?.verified).toBe(true);
  return delivery?.json as Postmark;
}

describe('webhooks.<id>.format: postmark', () => {
  it('sends a small message in Postmark’s fields, signed', async () => {
    const body = await deliver('pm-small', REPLY);
    expect(body).toMatchObject({
      From: 'joerg@customer.example',
      FromName: 'Müller, Jörg',
      FromFull: { Email: 'joerg@customer.example', Name: 'Müller, Jörg', MailboxHash: '' },
      To: '"Support" <support+acme@example.net>, b@example.org',
      ToFull: [
        { Email: 'support+acme@example.net', Name: 'Support', MailboxHash: 'acme' },
        { Email: 'b@example.org', Name: '', MailboxHash: '' },
      ],
      Cc: '"Carol" <carol@example.com>',
      Bcc: '',
      BccFull: [],
      ReplyTo: 'replies@customer.example',
      OriginalRecipient: 'support+acme@example.net',
      MailboxHash: 'acme',
      Subject: 'Re: Angebot € 100',
      MessageID: 'msg_pm-small',
      Date: 'Tue, 01 Jul 2025 10:52:37 +0200',
      TextBody: expect.stringContaining('> Anbei das Angebot.'),
      HtmlBody: '',
      StrippedTextReply: 'Passt so.',
      MessageStream: 'inbound',
      Attachments: [],
    });
    expect(body.Headers).toContainEqual({ Name: 'Message-ID', Value: '<reply-1@customer.example>' });
    expect(body).not.toHaveProperty('id');
  });

  it('streams a big message through the spool in the same shape', async () => {
    const message = bigMessage(STREAM_THRESHOLD_BYTES + 1024 * 1024, 5);
    const body = await deliver('pm-big', message.raw);
    const [attachment] = body.Attachments;
    expect(Object.keys(attachment ?? {}).sort()).toEqual([
      'Content',
      'ContentID',
      'ContentLength',
      'ContentType',
      'Name',
    ]);
    const content = Buffer.from(String(attachment?.Content), 'base64');
    expect(createHash('sha256').update(content).digest('hex')).toBe(message.attachments[0]?.sha256);
    expect(attachment?.ContentLength).toBe(content.length);
    expect(typeof body.TextBody).toBe('string');
    expect(body.MessageID).toBe('msg_pm-big');
  }, 60_000);
});
