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
    expect(parseList(listingLines(Buffer.from('1 120\r\n2 200\r\n')))).toEqual([
      { msg: 1, size: 120 },
      { msg: 2, size: 200 },
    ]);
    expect(parseUidl(listingLines(Buffer.from('1 a\r\n3 b\r\n')))).toEqual([
      { msg: 1, uid: 'a' },
      { msg: 3, uid: 'b' },
    ]);
    expect(parseList(listingLines(Buffer.alloc(0)))).toEqual([]);
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
    expect(() => parseList(['1 10', '1 20'])).toThrow(protocol);
    expect(() => parseUidl(['1 a', '1 b'])).toThrow(protocol);
    expect(() => parseUidl(['1 a', '2 a'])).toThrow(protocol);
  });

  it('refuses a blank line inside a listing', () => {
    expect(() => parseList(listingLines(Buffer.from('1 10\r\n\r\n2 20\r\n')))).toThrow(protocol);
  });
});
