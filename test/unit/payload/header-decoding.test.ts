import fc from 'fast-check';
import libmime from 'libmime';
import { describe, expect, it } from 'vitest';
import { parseParameterized, splitFields } from '../../../src/payload/header-fields.ts';
import {
  decodeEncodedWords,
  decodeHeaderBytes,
  isSupportedCharset,
} from '../../../src/payload/header-text.ts';
import { CORPUS_CHARSETS } from '../../fixtures/mime/charset-corpus.ts';

describe('decodeEncodedWords (RFC 2047)', () => {
  it.each([
    ['=?UTF-8?B?w6k=?=', 'é'],
    ['=?iso-8859-1?q?caf=E9_cr=E8me?=', 'café crème'],
    ['a =?utf-8?q?x?= b', 'a x b'],
    ['=?utf-8?q?a?= =?utf-8?q?b?=', 'ab'], // §6.2: space between adjacent words is dropped
    ['=?utf-8?q?a?=\t =?iso-8859-1?q?=E9?=', 'aé'], // also across charsets
    ['=?utf-8?q?a?= x =?utf-8?q?b?=', 'a x b'],
    ['=?UTF-8*en?Q?hi?=', 'hi'], // RFC 2231 §5 language
    ['=?utf-8?B?8J+Y?= =?utf-8?B?gw==?=', '😃'], // a character split across two words
    ['no words at all', 'no words at all'],
    ['=?utf-8?x?bad?=', '=?utf-8?x?bad?='],
    // windows-1252's 0x80-0x9f are € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ (TextDecoder gave C1 controls)
    ['=?windows-1252?Q?Preis_=80_100?=', 'Preis € 100'],
    ['=?Windows-1252?Q?=93Angebot=94_=96_Gr=FC=DFe=99?=', '“Angebot” – Grüße™'],
    // aliases real senders write
    ['=?iso-2022-jp-ms?B?GyRCJUYlOSVIGyhC?=', 'テスト'],
    ['=?cp932?B?g2WDWINn?=', 'テスト'],
    ['=?ks_c_5601-1987?B?x9Gx2w==?=', '한글'],
    ['=?x-mac-roman?Q?=8A?=', 'ä'],
    ['=?win-1250?Q?=8Aa=9Ak?=', 'Šašk'],
    ['=?iso-8859-8-i?Q?=F9=EC=E5?=', 'שלו'],
  ])('%s → %s', (input, expected) => {
    expect(decodeEncodedWords(input)).toEqual({ text: expected, invalidCharset: false });
  });

  it('leaves a word in an unknown or refused charset as written, and says so', () => {
    expect(decodeEncodedWords('x =?utf-7?Q?+ADw-?= y')).toEqual({
      text: 'x =?utf-7?Q?+ADw-?= y',
      invalidCharset: true,
    });
  });

  it('never throws and returns text unchanged when it holds no encoded-word', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decoded = decodeEncodedWords(text);
        if (!text.includes('=?')) expect(decoded.text).toBe(text);
      }),
    );
  });

  it("gives libmime's own answer for text without an encoded-word, its joining marker included", () => {
    // The shortcut for such text must not change what libmime would have made of it.
    const pieces = fc.constantFrom('a', ' ', '=', '?', '\0', '__\0JOIN\0__', '?=', 'é', '\t');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        const decoded = decodeEncodedWords(text);
        expect(decoded).toEqual({ text: libmime.decodeWords(text), invalidCharset: false });
      }),
    );
    expect(decodeEncodedWords('a__\0JOIN\0__b').text).toBe('ab');
  });

  it('stays fast on hostile input', () => {
    const started = performance.now();
    decodeEncodedWords(`${'=?'.repeat(200_000)}${'=?a?b?'.repeat(50_000)}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('decodeHeaderBytes', () => {
  it('reads UTF-8 (RFC 6532) and falls back to windows-1252 for bytes that are not UTF-8', () => {
    expect(decodeHeaderBytes(Buffer.from('Grüße').toString('latin1'))).toBe('Grüße');
    expect(decodeHeaderBytes('caf\xe9')).toBe('café');
    expect(decodeHeaderBytes('\x80 5')).toBe('€ 5');
    expect(decodeHeaderBytes('ascii')).toBe('ascii');
  });
});

describe('isSupportedCharset (libmime)', () => {
  it.each([...CORPUS_CHARSETS, 'UTF8', 'us-ascii', 'cp1252', 'gbk', 'utf-8*de'])('decodes %s', (charset) =>
    expect(isSupportedCharset(charset)).toBe(true),
  );
  it.each(['utf-7', 'UNICODE-1-1-UTF-7', 'utf-7-imap', 'base64', 'hex', 'x-made-up', '', '*en'])(
    'refuses %s',
    (charset) => expect(isSupportedCharset(charset)).toBe(false),
  );
});

describe('splitFields (RFC 5322 §2.2.3)', () => {
  it('unfolds, keeps order, duplicates and name case, and skips lines without a colon', () => {
    const block = 'From some mbox line\r\nX-A: 1\r\nReceived: a\r\n\tb\r\n  c\r\nx-a:2\nSubject : spaced ';
    expect(splitFields(block)).toEqual([
      { name: 'X-A', value: '1' },
      { name: 'Received', value: 'a\tb  c' },
      { name: 'x-a', value: '2' },
      { name: 'Subject', value: 'spaced' },
    ]);
  });
});

describe('splitFields: raw UTF-8 values', () => {
  it('trims only spaces and tabs around a value, after unfolding', () => {
    const value = fc.array(fc.constantFrom(' ', '\t', 'a', '\xa0', '\r\n ', '\n\t'), { maxLength: 10 });
    fc.assert(
      fc.property(value, (parts) => {
        const written = parts.join('');
        const [field] = splitFields(`X-A:${written}`);
        // The definition: CRLF (or LF) before white space removed, then RFC 5322 WSP at both ends.
        const expected = written.replace(/\r?\n/g, '').replace(/^[ \t]+|[ \t]+$/g, '');
        expect(field).toEqual({ name: 'X-A', value: expected });
      }),
    );
  });

  it('keeps a trailing 0xA0 byte, the end of a UTF-8 character, where String#trim would cut it', () => {
    const block = Buffer.from('Subject: Re: \u05e0 \r\nX-A: \u00e0', 'utf8').toString('latin1');
    expect(splitFields(block).map((f) => decodeHeaderBytes(f.value))).toEqual(['Re: \u05e0', '\u00e0']);
  });
});

describe('parseParameterized (RFC 2045 §5.1, RFC 2231)', () => {
  it('reads quoted values with escapes, semicolons inside quotes, comments and continuations', () => {
    const parsed = parseParameterized(
      'Multipart/Mixed (comment); boundary="a;b\\"c"; name*0*=utf-8\'en\'%C3%A9; name*1="t\u00e9"; charset=UTF-8',
    );
    expect(parsed.value).toBe('multipart/mixed');
    expect(Object.fromEntries(parsed.params)).toEqual({
      boundary: 'a;b"c',
      name: '\xc3\xa9t\u00e9',
      charset: 'UTF-8',
    });
  });
});
