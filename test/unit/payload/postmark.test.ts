import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  buildPayload,
  DEFAULT_PARSE_LIMITS,
  PAYLOAD_SCHEMA_PATH,
  POSTMARK_SCHEMA_PATH,
  toPostmark,
} from '../../../src/payload/index.ts';
import { fixture, fixtureNames, meta } from '../../fixtures/mime/corpus.ts';
import { outlookRichText, tnef } from '../../fixtures/mime/tnef.ts';

const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validatePostmark = ajv.compile(JSON.parse(readFileSync(POSTMARK_SCHEMA_PATH, 'utf8')));
const validatePayload = ajv.compile(JSON.parse(readFileSync(PAYLOAD_SCHEMA_PATH, 'utf8')));
const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('toPostmark', () => {
  it('maps plain.eml field by field, "" for what is absent', async () => {
    const body = toPostmark(await buildPayload(fixture('plain.eml'), meta(), DEFAULT_PARSE_LIMITS));
    expect({ ...body, Headers: body.Headers.length }).toEqual({
      FromName: 'Alice Example',
      MessageStream: 'inbound',
      From: 'alice@example.com',
      FromFull: { Email: 'alice@example.com', Name: 'Alice Example', MailboxHash: '' },
      To: '"Support" <support@example.net>, bob@example.org',
      ToFull: [
        { Email: 'support@example.net', Name: 'Support', MailboxHash: '' },
        { Email: 'bob@example.org', Name: '', MailboxHash: '' },
      ],
      Cc: '"Carol, C." <carol@example.com>',
      CcFull: [{ Email: 'carol@example.com', Name: 'Carol, C.', MailboxHash: '' }],
      Bcc: 'dave@example.com',
      BccFull: [{ Email: 'dave@example.com', Name: '', MailboxHash: '' }],
      OriginalRecipient: 'support@example.net',
      ReplyTo: '"Alice Replies" <replies@example.com>',
      Subject: 'Printer on fire',
      MessageID: 'msg_2XvYj3Kq',
      Date: 'Tue, 01 Jul 2025 10:52:37 +0200',
      MailboxHash: '',
      Tag: '',
      Headers: 15,
      Attachments: [],
      TextBody:
        'Hello support,\n\nthe printer is on fire.\n.leading dot stays\n.\n..two dots stay two dots\n-- \nAlice\n',
      HtmlBody: '',
      StrippedTextReply:
        'Hello support,\n\nthe printer is on fire.\n.leading dot stays\n.\n..two dots stay two dots',
    });
  });

  it('escapes quotes in display names and gives attachments Postmark’s members', async () => {
    const payload = await buildPayload(
      outlookRichText(tnef([{ longName: 'a.pdf', content: Buffer.from('%PDF') }])),
      meta(),
      DEFAULT_PARSE_LIMITS,
    );
    payload.to = [{ name: 'Say "hi" \\ there', address: 'x@example.com' }];
    const body = toPostmark(payload);
    expect(body.To).toBe('"Say \\"hi\\" \\\\ there" <x@example.com>');
    expect(body.Attachments.map((a) => [a.Name, a.ContentType, a.ContentLength, a.ContentID])).toEqual([
      ['winmail.dat', 'application/ms-tnef', payload.attachments[0]?.size, ''],
      ['a.pdf', 'application/pdf', 4, ''],
    ]);
  });
});

describe('both JSON Schemas', () => {
  it.each(fixtureNames())('accept the Postmark body of %s', async (name) => {
    const body = json(toPostmark(await buildPayload(fixture(name), meta(), DEFAULT_PARSE_LIMITS)));
    expect(validatePostmark(body) ? [] : validatePostmark.errors).toEqual([]);
  });

  it('accept a payload with every new field filled: authentication, bounce, tnef attachments', async () => {
    const raw = Buffer.concat([
      Buffer.from(
        'Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=a.example; dkim=pass header.d=a.example header.s=s1; dmarc=pass header.from=a.example; arc=none\r\n',
      ),
      outlookRichText(tnef([{ longName: 'a.pdf', content: Buffer.from('%PDF') }])),
    ]);
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS, {
      trustedAuthservIds: ['mx1.example.net'],
    });
    expect(payload.authentication?.arc).toEqual({ result: 'none' });
    expect(validatePayload(json(payload)) ? [] : validatePayload.errors).toEqual([]);
    const bounce = await buildPayload(fixture('bounce-postfix.eml'), meta(), DEFAULT_PARSE_LIMITS);
    expect(bounce.bounce).not.toBeNull();
    expect(validatePayload(json(bounce)) ? [] : validatePayload.errors).toEqual([]);
  });

  it('reject a Postmark body with a null string or without Attachments', async () => {
    const body = json(
      toPostmark(await buildPayload(fixture('plain.eml'), meta(), DEFAULT_PARSE_LIMITS)),
    ) as Record<string, unknown>;
    expect(validatePostmark({ ...body, Subject: null })).toBe(false);
    const { Attachments: _, ...without } = body;
    expect(validatePostmark(without)).toBe(false);
  });
});
