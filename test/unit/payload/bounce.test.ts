import { describe, expect, it } from 'vitest';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { fixture, meta } from '../../fixtures/mime/corpus.ts';

const build = (raw: Buffer) => buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));

// Shaped like Gmail's DSN: the returned message attached whole (message/rfc822), base64 status part.
const GMAIL_DSN = crlf(`Delivered-To: support@example.net
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: support@example.net
Subject: Delivery Status Notification (Failure)
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000aa"; report-type=delivery-status

--000000000000aa
Content-Type: text/plain; charset="UTF-8"

Address not found

Your message wasn't delivered to jane.doe@customer.example because the address couldn't be found.

--000000000000aa
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

${Buffer.from(
  'Reporting-MTA: dns; googlemail.com\r\nArrival-Date: Tue, 01 Jul 2025 01:52:37 -0700 (PDT)\r\n\r\n' +
    'Final-Recipient: rfc822; jane.doe@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n' +
    'Remote-MTA: dns; mx.customer.example. (203.0.113.5, the server for the domain customer.example.)\r\n' +
    'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.\r\n' +
    'Last-Attempt-Date: Tue, 01 Jul 2025 01:52:38 -0700 (PDT)\r\n',
).toString('base64')}
--000000000000aa
Content-Type: message/rfc822

From: Support <support@example.net>
To: jane.doe@customer.example
Subject: Your ticket #42
Message-ID: <ticket-42-reply-1@example.net>

Hello Jane,
--000000000000aa--
`);

// Two recipients, one of them only delayed, Exchange-style.
const EXCHANGE_DELAYED = crlf(`From: postmaster@contoso.example
To: support@example.net
Subject: Delayed: Angebot 2025-07
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="_b_"

--_b_
Content-Type: text/plain; charset="us-ascii"

Delivery is delayed to these recipients or groups.

--_b_
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB0001.eurprd01.prod.example

Final-Recipient: rfc822;einkauf@contoso.example
Action: delayed
Status: 4.4.7
X-Display-Name: Einkauf

Original-Recipient: rfc822;chef@contoso.example
Action: failed
Status: 5.2.2 (mailbox full)
Diagnostic-Code: smtp;554 5.2.2 mailbox full;
 STOREDRV.Deliver.Exception:QuotaExceededException

--_b_
Content-Type: text/rfc822-headers

Message-ID: <angebot-2025-07@example.net>
Subject: Angebot 2025-07

--_b_--
`);

const EXIM = crlf(`Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mail.example.org>
To: support@example.net
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: old@customer.example, gone@customer.example
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  old@customer.example
    host mx.customer.example [203.0.113.9]
    SMTP error from remote mail server after RCPT TO:<old@customer.example>:
    550 5.1.1 <old@customer.example>: Recipient address rejected

------ This is a copy of the message, including all the headers. ------

Message-ID: <ticket-7@example.net>
Subject: Re: ticket 7
`);

const QMAIL = crlf(`Return-Path: <>
From: MAILER-DAEMON@mail.example.com
To: support@example.net
Subject: failure notice

Hi. This is the qmail-send program at mail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@example.com>:
203.0.113.7 does not like recipient.
Remote host said: 550 5.1.1 No such user
Giving up on 203.0.113.7.

--- Below this line is a copy of the message.

Return-Path: <support@example.net>
Message-ID: <qm-1@example.net>
Subject: hello
`);

describe('payload.bounce', () => {
  it('reads a Postfix DSN: status, action, recipient, diagnostic unfolded, original Message-ID', async () => {
    const payload = await build(fixture('bounce-postfix.eml'));
    expect(payload.bounce).toEqual({
      form: 'dsn',
      reportingMta: 'mx1.example.net',
      originalMessageId: '<ticket-42-reply-3@example.net>',
      recipients: [
        {
          recipient: 'nobody@customer.example',
          action: 'failed',
          status: '5.1.1',
          diagnostic:
            '550 5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown in virtual mailbox table',
          remoteMta: 'mx.customer.example',
        },
      ],
    });
    expect(payload.autoReply).toBe(true);
    expect(payload.envelope.returnPath).toBe('');
  });

  it('reads Gmail’s DSN with a base64 status part and the returned message attached', async () => {
    const { bounce } = await build(GMAIL_DSN);
    expect(bounce?.originalMessageId).toBe('<ticket-42-reply-1@example.net>');
    expect(bounce?.recipients).toEqual([
      {
        recipient: 'jane.doe@customer.example',
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550-5.1.1 The email account that you tried to reach does not exist.',
        remoteMta: 'mx.customer.example. (203.0.113.5, the server for the domain customer.example.)',
      },
    ]);
  });

  it('lists every recipient of a report, a delayed one too, Original-Recipient when there is no Final-', async () => {
    const { bounce } = await build(EXCHANGE_DELAYED);
    expect(bounce?.reportingMta).toBe('AM0PR01MB0001.eurprd01.prod.example');
    expect(bounce?.originalMessageId).toBe('<angebot-2025-07@example.net>');
    expect(bounce?.recipients.map((r) => [r.recipient, r.action, r.status, r.diagnostic])).toEqual([
      ['einkauf@contoso.example', 'delayed', '4.4.7', null],
      [
        'chef@contoso.example',
        'failed',
        '5.2.2',
        '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException',
      ],
    ]);
  });

  it('reads Exim’s X-Failed-Recipients form', async () => {
    const { bounce } = await build(EXIM);
    expect(bounce).toEqual({
      form: 'exim',
      reportingMta: null,
      originalMessageId: '<ticket-7@example.net>',
      recipients: ['old@customer.example', 'gone@customer.example'].map((recipient) => ({
        recipient,
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 <old@customer.example>: Recipient address rejected',
        remoteMta: null,
      })),
    });
  });

  it('reads qmail’s text form', async () => {
    const { bounce } = await build(QMAIL);
    expect(bounce).toEqual({
      form: 'qmail',
      reportingMta: null,
      originalMessageId: '<qm-1@example.net>',
      recipients: [
        {
          recipient: 'nobody@example.com',
          action: 'failed',
          status: '5.1.1',
          diagnostic:
            '203.0.113.7 does not like recipient. Remote host said: 550 5.1.1 No such user Giving up on 203.0.113.7.',
          remoteMta: null,
        },
      ],
    });
  });

  it('is null for ordinary mail, a forwarded message included', async () => {
    expect((await build(fixture('plain.eml'))).bounce).toBeNull();
    expect((await build(fixture('nested.eml'))).bounce).toBeNull();
  });
});
