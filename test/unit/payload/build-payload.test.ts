import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS, type PayloadV1 } from '../../../src/payload/index.ts';
import { fixture, meta } from '../../fixtures/mime/corpus.ts';

const build = (name: string) => buildPayload(fixture(name), meta(), DEFAULT_PARSE_LIMITS);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const header = (payload: PayloadV1, name: string) => payload.headers.find((h) => h.name === name)?.value;

describe('buildPayload: plain.eml, every field', () => {
  it('gives exact values', async () => {
    const raw = fixture('plain.eml');
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload).toEqual({
      id: 'msg_2XvYj3Kq',
      version: 1,
      mailbox: 'support',
      uidl: 'UID-0001',
      receivedAt: '2025-07-15T12:00:00.000Z',
      messageId: '<plain-1@example.com>',
      date: '2025-07-01T08:52:37.000Z',
      subject: 'Printer on fire',
      from: { name: 'Alice Example', address: 'alice@example.com' },
      to: [
        { name: 'Support', address: 'support@example.net' },
        { name: null, address: 'bob@example.org' },
      ],
      cc: [{ name: 'Carol, C.', address: 'carol@example.com' }],
      bcc: [{ name: null, address: 'dave@example.com' }],
      replyTo: [{ name: 'Alice Replies', address: 'replies@example.com' }],
      inReplyTo: '<ticket-41@example.net>',
      references: ['<ticket-40@example.net>', '<ticket-41@example.net>'],
      headers: [
        { name: 'Return-Path', value: '<alice@example.com>' },
        {
          name: 'Received',
          value:
            'from mx.example.com (mx.example.com [192.0.2.1])\tby pop.example.net with ESMTPS id 42\tfor <support@example.net>; Tue, 01 Jul 2025 10:52:37 +0200',
        },
        { name: 'From', value: 'Alice Example <alice@example.com>' },
        { name: 'To', value: 'Support <support@example.net>, bob@example.org' },
        { name: 'Cc', value: '"Carol, C." <carol@example.com>' },
        { name: 'Bcc', value: 'dave@example.com' },
        { name: 'Reply-To', value: 'Alice Replies <replies@example.com>' },
        { name: 'Subject', value: 'Printer on fire' },
        { name: 'Date', value: 'Tue, 01 Jul 2025 10:52:37 +0200' },
        { name: 'Message-ID', value: '<plain-1@example.com>' },
        { name: 'In-Reply-To', value: '<ticket-41@example.net>' },
        { name: 'References', value: '<ticket-40@example.net> <ticket-41@example.net>' },
        { name: 'MIME-Version', value: '1.0' },
        { name: 'Content-Type', value: 'text/plain; charset=us-ascii' },
        { name: 'Content-Transfer-Encoding', value: '7bit' },
      ],
      autoReply: false,
      bulk: false,
      envelope: { to: null, returnPath: 'alice@example.com' },
      mailboxHash: null,
      authentication: null,
      text: 'Hello support,\n\nthe printer is on fire.\n.leading dot stays\n.\n..two dots stay two dots\n-- \nAlice\n',
      html: null,
      strippedText:
        'Hello support,\n\nthe printer is on fire.\n.leading dot stays\n.\n..two dots stay two dots',
      attachments: [],
      size: raw.length,
      sha256: sha256(raw),
      // The documented recipe, recomputed here: the digest of the JSON array naming the Message-ID.
      contentKey: sha256(Buffer.from('["message-id","<plain-1@example.com>"]')),
      warnings: [],
      bounce: null,
      truncated: null,
    });
  });

  it('reads LF-only input like CRLF input, except for the raw size and digest', async () => {
    const crlf = await build('plain.eml');
    const lf = await build('plain-lf.eml');
    expect(lf.size).toBe(crlf.size - 27); // one CR per line
    expect({ ...lf, size: 0, sha256: '' }).toEqual({ ...crlf, size: 0, sha256: '' });
  });

  it('takes the raw message as an async iterable of chunks, split anywhere', async () => {
    const raw = fixture('plain.eml');
    async function* chunks() {
      for (let i = 0; i < raw.length; i += 7) yield raw.subarray(i, i + 7);
    }
    expect(await buildPayload(chunks(), meta(), DEFAULT_PARSE_LIMITS)).toEqual(await build('plain.eml'));
  });
});

describe('buildPayload: attachments', () => {
  it('gives size, sha256 and base64 of the decoded bytes of a binary PDF-like part', async () => {
    const payload = await build('attachments.eml');
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.alloc(1500, 0xa5),
      Buffer.from('\n%%EOF\n'),
    ]);
    expect(payload.text).toBe('Invoice attached.');
    expect(payload.attachments).toHaveLength(2);
    const [invoice, csv] = payload.attachments;
    expect({ ...invoice, content: undefined }).toEqual({
      filename: 'invoice.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
      sha256: sha256(pdf),
      contentId: null,
      disposition: 'attachment',
      source: 'mime',
      content: undefined,
    });
    expect(Buffer.from(invoice?.content ?? '', 'base64').equals(pdf)).toBe(true);
    // RFC 2231 filename*, quoted-printable body (CRLF kept: the part's own line breaks are content).
    expect(csv?.filename).toBe('Résumé Q3.csv');
    expect(Buffer.from(csv?.content ?? '', 'base64').toString()).toBe('item,amount\r\ncafé,3.50');
    expect(csv?.size).toBe(Buffer.byteLength('item,amount\r\ncafé,3.50'));
  });

  it('lists an inline image with its Content-ID and keeps the cid: link in the HTML', async () => {
    const payload = await build('inline-image.eml');
    expect(payload.html).toBe('<p>Our logo: <img src="cid:logo@example.com"></p>');
    expect(payload.attachments).toHaveLength(1);
    const [logo] = payload.attachments;
    expect(logo).toMatchObject({
      filename: null,
      contentType: 'image/png',
      contentId: '<logo@example.com>',
      disposition: 'inline',
    });
    const png = Buffer.from(logo?.content ?? '', 'base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(logo?.sha256).toBe(sha256(png));
  });

  it('walks nested multiparts and keeps an attached message/rfc822 as one attachment', async () => {
    const payload = await build('nested.eml');
    expect(payload.text).toBe('Nested plain.');
    expect(payload.html).toBe('<p>Nested <img src="cid:dot@example.com"></p>');
    expect(payload.attachments.map((a) => [a.contentType, a.filename, a.contentId])).toEqual([
      ['image/gif', null, '<dot@example.com>'],
      ['message/rfc822', 'forwarded.eml', null],
    ]);
    expect(Buffer.from(payload.attachments[1]?.content ?? '', 'base64').toString()).toContain('Inner body.');
  });

  it('keeps every part of a message with many parts, in order', async () => {
    const payload = await build('many-parts.eml');
    expect(payload.attachments.map((a) => a.filename)).toEqual(
      Array.from({ length: 60 }, (_, i) => `part-${i + 1}.txt`),
    );
  });
});

describe('buildPayload: header decoding', () => {
  it('decodes RFC 2047 words in UTF-8 (split mid-character) and ISO-8859-1, groups flattened', async () => {
    const payload = await build('encoded-words.eml');
    expect(payload.subject).toBe('Grüße 😃 aus Köln');
    expect(payload.from).toEqual({ name: 'André François', address: 'andre@example.fr' });
    expect(payload.to).toEqual([
      { name: 'Jörg', address: 'joerg@example.de' },
      { name: null, address: 'a@example.com' },
      { name: 'B', address: 'b@example.com' },
    ]);
    expect(header(payload, 'Subject')).toBe('Grüße 😃 aus Köln');
    expect(header(payload, 'X-Mixed')).toBe('plain café text');
    expect(payload.text).toBe('Bonjour, ça va très bien.\n');
  });

  it('reads raw UTF-8 headers (RFC 6532), and raw Latin-1 bytes where they are not UTF-8', async () => {
    const payload = await build('utf8-headers.eml');
    expect(payload.subject).toBe('Grüße aus 東京');
    expect(payload.from).toEqual({ name: 'Jörg Müller', address: 'joerg@example.de' });
    expect(payload.to).toEqual([{ name: '山田', address: 'yamada@example.jp' }]);
    expect(header(payload, 'X-Latin1-Raw')).toBe('café');
    expect(payload.text).toBe('本文です。\n');
  });

  it('decodes an Outlook windows-1252 subject and name like the body: € and curly quotes kept', async () => {
    const raw = Buffer.from(
      [
        'From: =?Windows-1252?Q?M=FCller_=96_Einkauf?= <einkauf@example.de>',
        'To: <support@example.net>',
        'Subject: =?Windows-1252?Q?AW:_=84Preis_=80_100=93?=',
        'Thread-Topic: =?Windows-1252?Q?=84Preis_=80_100=93?=',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset="Windows-1252"',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '=84Preis =80 100=93 passt.',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload.subject).toBe('AW: „Preis € 100“');
    expect(header(payload, 'Thread-Topic')).toBe('„Preis € 100“');
    expect(payload.from).toEqual({ name: 'Müller – Einkauf', address: 'einkauf@example.de' });
    expect(payload.text).toBe('„Preis € 100“ passt.\n');
    expect(payload.warnings).toEqual([]);
  });

  it('gives null, empty lists and invalid-date for a message with almost no headers', async () => {
    const payload = await build('minimal.eml');
    expect(payload).toMatchObject({
      messageId: null,
      date: null,
      subject: 'only a subject',
      from: null,
      to: [],
      cc: [],
      bcc: [],
      replyTo: [],
      inReplyTo: null,
      references: [],
      html: null,
      text: 'Minimal body.\n',
      warnings: ['invalid-date'],
    });
  });
});

describe('buildPayload: bodies and anomalies', () => {
  it('turns HTML-only mail into text as well', async () => {
    const payload = await build('html-only.eml');
    expect(payload.html).toContain('<h1>Café news</h1>');
    expect(payload.text).toBe('CAFÉ NEWS\n\nHello world, this line is long enough to be soft-broken.');
  });

  it('gives both alternatives of multipart/alternative, preamble and epilogue left out', async () => {
    const payload = await build('alternative.eml');
    expect([payload.text, payload.html]).toEqual(['Plain version.', '<p>HTML version.</p>']);
  });

  it('unflows format=flowed with delsp=yes (RFC 3676)', async () => {
    const payload = await build('flowed.eml');
    expect(payload.text).toBe(
      'This is a long paragraph that was flowed by the sender.\n\n> quoted and flowed too.',
    );
  });

  it('keeps the body of a multipart without boundary as text, with missing-boundary', async () => {
    const payload = await build('missing-boundary.eml');
    expect(payload.text).toBe('The body of a multipart without boundary.\n');
    expect(payload.warnings).toEqual(['missing-boundary']);
  });

  it('keeps NUL bytes as U+0000, with nul-bytes', async () => {
    const payload = await build('nul-bytes.eml');
    expect(payload.text).toBe('before\u0000after\n\u0000\u0000\n');
    expect(payload.warnings).toEqual(['nul-bytes']);
  });

  it('survives an unknown charset in the body and in an encoded-word, with invalid-charset', async () => {
    const payload = await build('invalid-charset.eml');
    expect(payload.subject).toBe('=?x-made-up?Q?abc?= and more');
    expect(payload.text).toBe('Body in an unknown charset.\n');
    expect(payload.warnings).toEqual(['invalid-charset']);
  });

  it('delivers the parts of a multipart cut off before its closing delimiter, with unterminated-multipart', async () => {
    const payload = await build('unterminated.eml');
    expect(payload.text).toBe('The closing delimiter never comes.');
    expect(payload.attachments.map((a) => [a.filename, a.size])).toEqual([['data.bin', 6]]);
    expect(payload.warnings).toEqual(['unterminated-multipart']);
  });

  it('skips html-to-text for HTML over 2 MiB characters, with html-to-text-failed, and keeps the HTML', async () => {
    const html = `<p>${'word '.repeat(450_000)}</p>`;
    const raw = Buffer.from(`Subject: big\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`);
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload.text).toBe('');
    expect(payload.html?.length).toBe(html.length + 1);
    expect(payload.warnings).toEqual(['html-to-text-failed']);
  });

  it('refuses a structure over the limits with PAYLOAD_LIMIT before mailparser runs', async () => {
    const error = await buildPayload(fixture('many-parts.eml'), meta(), {
      ...DEFAULT_PARSE_LIMITS,
      maxParts: 10,
    }).catch((e: unknown) => e);
    expect(isPophookError(error, 'PAYLOAD_LIMIT')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(false);
  });
});
