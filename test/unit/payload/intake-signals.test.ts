import { describe, expect, it } from 'vitest';
import { splitFields } from '../../../src/payload/header-fields.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { readIntakeSignals } from '../../../src/payload/intake-signals.ts';
import { meta } from '../../fixtures/mime/corpus.ts';

const signals = (block: string) => readIntakeSignals(splitFields(block));

// Header blocks shaped like the real ones (addresses and ids invented).
const GMAIL_VACATION = `Delivered-To: support+acme@example.net
Return-Path: <>
Received: from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.220.41])
Auto-Submitted: auto-replied
From: Jane Customer <jane@gmail.example>
To: support+acme@example.net
Subject: Out of office: Re: [Ticket #42] Printer on fire
Precedence: bulk
X-Autoreply: yes`;

const EXCHANGE_OOF = `Return-Path: <>
X-Original-To: support@example.net
Delivered-To: helpdesk@mail.example.net
From: Max Mustermann <max@contoso.example>
To: support@example.net
Subject: Automatische Antwort: Rechnung 2025-07
Thread-Topic: Rechnung 2025-07
X-MS-Has-Attach:
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: max@contoso.example
Auto-Submitted: auto-generated`;

const NEWSLETTER = `Return-Path: <bounce-mc.us21_1234.5678-support=example.net@mail123.suw91.mcsv.example>
Envelope-To: support@example.net
Delivery-date: Tue, 01 Jul 2025 10:52:37 +0200
From: Shop News <news@shop.example>
To: <support@example.net>
Subject: 20% off this week
List-Unsubscribe: <https://shop.example.us21.list-manage.example/unsubscribe?u=abc>, <mailto:unsub@shop.example>
List-Id: shop.example.us21.list-id.example
Precedence: bulk`;

const CUSTOMER = `Return-Path: <alice@example.com>
X-Original-To: support+billing@example.net
Delivered-To: support@example.net
From: Alice <alice@example.com>
To: Support <support+billing@example.net>
Auto-Submitted: no
Subject: Question about invoice 2025-07`;

describe('readIntakeSignals: autoReply, bulk, envelope, mailboxHash', () => {
  it('flags a Gmail vacation reply as an auto-reply (and bulk: Gmail sets Precedence: bulk)', () => {
    expect(signals(GMAIL_VACATION)).toEqual({
      autoReply: true,
      bulk: true,
      envelope: { to: 'support+acme@example.net', returnPath: '' },
      mailboxHash: 'acme',
    });
  });

  it('flags an Exchange out-of-office reply, X-Original-To before Delivered-To', () => {
    expect(signals(EXCHANGE_OOF)).toEqual({
      autoReply: true,
      bulk: false,
      envelope: { to: 'support@example.net', returnPath: '' },
      mailboxHash: null,
    });
  });

  it('flags a newsletter as bulk, not as an auto-reply, with the Exim Envelope-To', () => {
    expect(signals(NEWSLETTER)).toEqual({
      autoReply: false,
      bulk: true,
      envelope: {
        to: 'support@example.net',
        returnPath: 'bounce-mc.us21_1234.5678-support=example.net@mail123.suw91.mcsv.example',
      },
      mailboxHash: null,
    });
  });

  it('leaves a customer message unflagged (Auto-Submitted: no) and reads its plus tag', () => {
    expect(signals(CUSTOMER)).toEqual({
      autoReply: false,
      bulk: false,
      envelope: { to: 'support+billing@example.net', returnPath: 'alice@example.com' },
      mailboxHash: 'billing',
    });
  });

  it.each([
    ['Auto-Submitted: auto-generated; owner-email="x@example.com"', true],
    ['Auto-Submitted: auto-notified', true],
    ['Auto-Submitted: No (a human)', false],
    ['Precedence: auto_reply', true],
    ['X-Autorespond: vacation', true],
    ['X-Auto-Response-Suppress: DR, OOF, AutoReply', true],
    ['X-Auto-Response-Suppress: DR', false],
    ['Precedence: list', false],
  ])('autoReply of %s is %s', (header, expected) => {
    expect(signals(header).autoReply).toBe(expected);
  });

  it.each([
    ['Precedence: junk', true],
    ['Precedence: LIST', true],
    ['Precedence: first-class', false],
    ['List-Id: <dev.lists.example.org>', true],
  ])('bulk of %s is %s', (header, expected) => {
    expect(signals(header).bulk).toBe(expected);
  });

  it('has no envelope and no hash when no header names them; an empty tag is no tag', () => {
    expect(signals('Subject: hi')).toEqual({
      autoReply: false,
      bulk: false,
      envelope: { to: null, returnPath: null },
      mailboxHash: null,
    });
    expect(signals('Delivered-To: support+@example.net').mailboxHash).toBeNull();
    expect(signals('Delivered-To: a+b+c@example.net').mailboxHash).toBe('b+c');
  });

  it('reaches the payload', async () => {
    const raw = Buffer.from(`${GMAIL_VACATION.replace(/\n/g, '\r\n')}\r\n\r\nI am away until Monday.\r\n`);
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload).toMatchObject({ autoReply: true, bulk: true, mailboxHash: 'acme' });
    expect(payload.envelope).toEqual({ to: 'support+acme@example.net', returnPath: '' });
  });
});
