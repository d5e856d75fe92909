import { describe, expect, it } from 'vitest';
import { readMessageHeaders } from '../../../src/payload/index.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

describe('readMessageHeaders', () => {
  it('reads the block up to the first empty line, unfolded and decoded', () => {
    const head = crlf([
      'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.com>',
      'Subject: =?UTF-8?B?RmFjdHVyZSDigqw0Mg==?=',
      ' continued',
      'Date: Tue, 1 Dec 2026 10:00:00 +0000',
      '',
      'Subject: not a header, the body',
    ]);
    const { headers, subject, date } = readMessageHeaders(head);
    expect(subject).toBe('Facture €42 continued');
    expect(date).toBe('2026-12-01T10:00:00.000Z');
    expect(headers.map((h) => h.name)).toEqual(['From', 'Subject', 'Date']);
    expect(headers[0]?.value).toBe('Renée <renee@example.com>');
  });

  it('takes a cut-off head up to its last whole line, and TOP output with bare LFs', () => {
    const cut = Buffer.from('Subject: a\r\nFrom: b@example.com\r\nX-Long: cut here', 'latin1');
    expect(readMessageHeaders(cut).headers.map((h) => h.name)).toEqual(['Subject', 'From']);
    expect(readMessageHeaders(Buffer.from('Subject: lf\n\nbody')).subject).toBe('lf');
    expect(readMessageHeaders(Buffer.alloc(0))).toMatchObject({ headers: [], subject: null, date: null });
  });

  it('says so when raw header bytes were not UTF-8 and were read as windows-1252', () => {
    const legacy = readMessageHeaders(Buffer.from('Subject: K\xf6ln \x80 5\r\n\r\n', 'latin1'));
    expect(legacy.subject).toBe('Köln € 5');
    expect(legacy.warnings).toEqual(['undeclared-charset']);
    const utf8 = readMessageHeaders(Buffer.from('Subject: Köln € 5\r\n\r\n'));
    expect(utf8).toMatchObject({ subject: 'Köln € 5', warnings: [] });
  });
});
