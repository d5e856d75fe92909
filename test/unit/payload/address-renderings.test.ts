// mailparser's address renderings, deferred (src/payload/address-renderings.ts): nothing rendered for a
// header nobody prints, and the header block of an inline forwarded message still exactly as mailparser
// writes it into the text and HTML bodies.
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { DeferredRendering, deferAddressRenderings } from '../../../src/payload/address-renderings.ts';
import { parseMail } from '../../../src/payload/mail-parser.ts';
import { DEFAULT_PARSE_LIMITS } from '../../../src/payload/types.ts';

const FORWARDED = Buffer.from(
  [
    'From: agent@example.com',
    'To: support@example.net',
    'Subject: Fwd: Original',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See below.',
    '--b',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    'From: "Alice <Example>" <alice@example.com>',
    'To: bob@example.com, "Carol & Co" <carol@example.com>',
    'Cc: Team: dan@example.com;',
    'Subject: Original',
    'Date: Sat, 12 Jul 2025 10:00:00 +0000',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Original body.</p>',
    '--b--',
    '',
  ].join('\r\n'),
);

// What mailparser 3 writes with its renderings made at once (captured before they were deferred).
const address = (name: string, email: string) =>
  `<span class="mp_address_group">${name ? `<span class="mp_address_name">${name}</span> &lt;` : ''}<a href="mailto:${email}" class="mp_address_email">${email}</a>${name ? '&gt;' : ''}</span>`;
const row = (key: string, value: string) =>
  `<tr><td class="mp_head_key">${key}:</td><td class="mp_head_value">${value}<td></tr>`;
const FORWARDED_HTML =
  '<br/>\n<table class="mp_head">' +
  [
    row('From', address('Alice &#x3C;Example&#x3E;', 'alice@example.com')),
    row('Subject', '<strong>Original</strong>'),
    row('Date', 'Sat, 12 Jul 2025 10:00:00 GMT'),
    row('To', `${address('', 'bob@example.com')}, ${address('Carol &#x26; Co', 'carol@example.com')}`),
    row(
      'Cc',
      '<span class="mp_address_group"><span class="mp_address_name">Team: </span>' +
        `${address('', 'dan@example.com')};</span>`,
    ),
  ].join('\n') +
  '<table><br/>\n<p>Original body.</p>';
const FORWARDED_TEXT =
  'See below.\n\nFrom: "Alice <Example>" <alice@example.com>\nSubject: Original\n' +
  'Date: Sat, 12 Jul 2025 10:00:00 GMT\nTo: bob@example.com, "Carol & Co" <carol@example.com>\n' +
  'Cc: "Team": dan@example.com;\n\nOriginal body.';

describe('address renderings', () => {
  it('writes an inline forwarded message’s header block into text and html as mailparser does', async () => {
    const parsed = await parseMail(FORWARDED, DEFAULT_PARSE_LIMITS);
    expect(parsed.text).toBe(FORWARDED_TEXT);
    expect(parsed.html).toBe(FORWARDED_HTML);
    expect(parsed.from).toEqual({ name: null, address: 'agent@example.com' });
  });

  it('leaves a header’s renderings unmade until something turns them into a string', async () => {
    // The installed mailparser still renders through the methods deferred: a rename would fail here.
    const mail = await simpleParser(FORWARDED);
    const from = mail.from as unknown as { html: unknown; text: unknown };
    expect(from.html).toBeInstanceOf(DeferredRendering);
    expect(from.text).toBeInstanceOf(DeferredRendering);
    expect(String(from.text)).toBe('agent@example.com');
    expect(String(from.html)).toBe(address('', 'agent@example.com'));
  });

  it('renders once, on first use', () => {
    let calls = 0;
    const rendering = new DeferredRendering(() => `rendered ${++calls}`);
    expect(calls).toBe(0);
    expect(`${rendering} and ${rendering}`).toBe('rendered 1 and rendered 1');
    expect(calls).toBe(1);
  });

  it('leaves a parser without those methods alone', () => {
    class Other {}
    deferAddressRenderings(Other);
    expect(Object.getOwnPropertyNames(Other.prototype)).toEqual(['constructor']);
  });
});
