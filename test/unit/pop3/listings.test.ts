import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  listingLines,
  parseList,
  parseListLine,
  parseStat,
  parseUidl,
  parseUidlLine,
} from '../../../src/pop3/index.ts';

const protocol = expect.objectContaining({ code: 'POP3_PROTOCOL' });

describe('listing parsers', () => {
  it('parses STAT, tolerating trailing text', () => {
    expect(parseStat('2 320')).toEqual({ count: 2, size: 320 });
    expect(parseStat('0 0 empty maildrop')).toEqual({ count: 0, size: 0 });
  });

  it('refuses malformed STAT', () => {
    for (const text of ['', '2', 'two 320', '2 -3', '2 3.5', '99999999999999999 1']) {
      expect(() => parseStat(text), text).toThrow(protocol);
    }
  });

  it('parses single LIST and UIDL answers', () => {
    expect(parseListLine('3 1200')).toEqual({ msg: 3, size: 1200 });
    expect(parseUidlLine('3 QhdPYR:00WBw1Ph7x7')).toEqual({ msg: 3, uid: 'QhdPYR:00WBw1Ph7x7' });
  });

  it('parses multi-line LIST and UIDL bodies', () => {
    expect(parseList(Buffer.from('1 120\r\n2 200\r\n'))).toEqual([
      { msg: 1, size: 120 },
      { msg: 2, size: 200 },
    ]);
    expect(parseUidl(Buffer.from('1 a\r\n3 b\r\n'))).toEqual([
      { msg: 1, uid: 'a' },
      { msg: 3, uid: 'b' },
    ]);
    expect(parseList(Buffer.alloc(0))).toEqual([]);
  });

  it('refuses wrong formats, non-numeric sizes and message 0', () => {
    for (const line of ['1', 'x 120', '1 12k', '0 5', '', '-1 5']) {
      expect(() => parseListLine(line), line).toThrow(protocol);
    }
    for (const line of ['1', '0 abc', 'x abc', '1 \u00e9t\u00e9']) {
      expect(() => parseUidlLine(line), line).toThrow(protocol);
    }
  });

  it('refuses duplicate message numbers and duplicate unique-ids', () => {
    expect(() => parseList(Buffer.from('1 10\r\n1 20\r\n'))).toThrow(protocol);
    expect(() => parseUidl(Buffer.from('1 a\r\n1 b\r\n'))).toThrow(protocol);
    expect(() => parseUidl(Buffer.from('1 a\r\n2 a\r\n'))).toThrow(protocol);
  });

  it('refuses a blank line inside a listing', () => {
    expect(() => parseList(Buffer.from('1 10\r\n\r\n2 20\r\n'))).toThrow(protocol);
  });
});

/** The definition parseList and parseUidl keep: the decoded body's lines, each through the line parser. */
function byLines<T extends { msg: number }>(body: Buffer, parse: (line: string) => T): T[] {
  const out = listingLines(body).map(parse);
  const numbers = out.map((e) => e.msg);
  const twice = numbers.find((msg, i) => numbers.indexOf(msg) !== i);
  if (twice !== undefined) throw new Error(`message ${twice} listed twice`);
  return out;
}

const outcome = (run: () => unknown) => {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('multi-line listings read from bytes', () => {
  // Words and separators a server (or a broken one) may send, the awkward ones included.
  const piece = fc.constantFrom(
    '1',
    '2',
    '07',
    '10',
    '0',
    '999999999999999',
    '1000000000000000',
    'abc',
    'a:b',
    ' ',
    '  ',
    '\t',
    '\r',
    '\r\n',
    '\n',
    '\u00a0',
    '\u00e9',
    '\xff',
    '-1',
    '+3',
    '\u000b',
    '\u0000',
  );
  const body = fc
    .array(piece, { maxLength: 24 })
    .map((pieces) => Buffer.from(pieces.join(''), pieces.length % 2 ? 'utf8' : 'latin1'));

  it('parses LIST exactly as its lines one by one, errors included', () => {
    fc.assert(
      fc.property(body, (bytes) => {
        const fast = outcome(() => parseList(bytes));
        const reference = outcome(() => byLines(bytes, parseListLine));
        expect(fast).toEqual(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses UIDL exactly as its lines one by one, errors included', () => {
    fc.assert(
      fc.property(body, (bytes) => {
        const fast = outcome(() => parseUidl(bytes));
        const reference = outcome(() => {
          const entries = byLines(bytes, parseUidlLine);
          const uids = entries.map((e) => e.uid);
          const twice = uids.find((uid, i) => uids.indexOf(uid) !== i);
          if (twice !== undefined) throw new Error(`unique-id ${twice} listed twice`);
          return entries;
        });
        expect(fast).toEqual(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a big listing with one object per line', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `${i + 1} ${1000 + i}\r\n`).join('');
    const entries = parseList(Buffer.from(lines));
    expect(entries).toHaveLength(5000);
    expect(entries[4999]).toEqual({ msg: 5000, size: 5999 });
  });
});
