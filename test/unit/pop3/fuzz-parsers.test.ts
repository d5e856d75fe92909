// Property tests of the pure reply parsers fed hostile input: status lines, CAPA, STAT, LIST and UIDL (single
// and multi-line). Each either returns a result that obeys its grammar or throws a coded Pop3Error, never
// another kind of exception; inputs mix random bytes with the protocol's own tokens so the interesting
// branches are reached.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  errorFromStatus,
  isPop3Error,
  listingLines,
  POP3_ERROR_CODES,
  parseCapabilities,
  parseList,
  parseListLine,
  parseStat,
  parseStatusLine,
  parseUidl,
  parseUidlLine,
} from '../../../src/pop3/index.ts';

const RUNS = { numRuns: 2_000 };

const TOKENS = [
  '+OK',
  '-ERR',
  '+',
  '+ ',
  ' ',
  '\t',
  '\r\n',
  '\n',
  '\r',
  '.',
  '[',
  ']',
  '/',
  'IN-USE',
  'SYS/TEMP',
  'AUTH',
  '0',
  '1',
  '42',
  '-1',
  '1e3',
  '0x10',
  '999999999999999',
  '9999999999999999999999',
  'SASL',
  'PLAIN',
  'PIPELINING',
  'LOGIN-DELAY',
  'UIDL',
  '\u0000',
  '\u00ff',
  'é',
  '\u{1f4a9}',
  '__proto__',
  'constructor',
];

/** Strings made of protocol tokens and random characters. */
const protocolText = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary' })), {
    maxLength: 20,
  })
  .map((parts) => parts.join(''));

/** Raw bytes: protocol text as UTF-8, or plain random bytes (invalid UTF-8 included). */
const protocolBytes = fc.oneof(
  protocolText.map((text) => Buffer.from(text, 'utf8')),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

/** Runs `parse`; a thrown error must be a Pop3Error with a catalogued code (optionally one of `codes`). */
function outcome<T>(parse: () => T, codes?: readonly string[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(isPop3Error(error), String(error)).toBe(true);
    const code = (error as { code: string }).code;
    expect(Object.hasOwn(POP3_ERROR_CODES, code)).toBe(true);
    if (codes) expect(codes).toContain(code);
    return undefined;
  }
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

describe('status lines', () => {
  it('parseStatusLine: ok, err, continue, or POP3_PROTOCOL', () => {
    fc.assert(
      fc.property(protocolBytes, (line) => {
        const status = outcome(() => parseStatusLine(line), ['POP3_PROTOCOL']);
        if (status === undefined) return;
        const text = line.toString('utf8');
        if (status.kind === 'ok') expect(text.slice(0, 3).toUpperCase()).toBe('+OK');
        if (status.kind === 'err') expect(text.slice(0, 4).toUpperCase()).toBe('-ERR');
        if (status.kind === 'continue') expect(text.startsWith('+')).toBe(true);
        if (status.kind !== 'continue' && status.responseCode !== undefined) {
          expect(status.responseCode).toMatch(
            /^[\x21-\x2e\x30-\x5c\x5e-\x7e]+(\/[\x21-\x2e\x30-\x5c\x5e-\x7e]+)*$/,
          );
        }
      }),
      RUNS,
    );
  });

  it('errorFromStatus gives a coded, control-free error for every -ERR line', () => {
    const errLine = fc
      .tuple(fc.constantFrom('-ERR', '-err', '-ERR '), protocolText)
      .map(([head, rest]) => Buffer.from(`${head}${rest}`, 'utf8'));
    const command = fc.constantFrom('PASS ****', 'RETR 1', 'AUTH PLAIN ****', 'QUIT');
    fc.assert(
      fc.property(fc.oneof(errLine, protocolBytes), command, (line, cmd) => {
        const status = outcome(() => parseStatusLine(line), ['POP3_PROTOCOL']);
        if (status?.kind !== 'err') return;
        const error = errorFromStatus(status, cmd);
        expect(isPop3Error(error)).toBe(true);
        // Server text reaches the message only in its bounded, control-free form.
        expect(error.message).not.toMatch(/[\x00-\x1f\x7f]/);
      }),
      RUNS,
    );
  });
});

describe('CAPA', () => {
  it('parseCapabilities never throws and keeps its fields sane', () => {
    fc.assert(
      fc.property(fc.array(protocolText, { maxLength: 20 }), (lines) => {
        const caps = parseCapabilities(lines);
        expect(caps.names.every((name) => name.length > 0)).toBe(true);
        expect(caps.sasl.every((mech) => mech === mech.toUpperCase() && !/\s/.test(mech))).toBe(true);
        if (caps.loginDelaySeconds !== undefined) expect(isCount(caps.loginDelaySeconds)).toBe(true);
        expect(typeof caps.has('__proto__')).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('parses CAPA bodies decoded from arbitrary bytes', () => {
    fc.assert(
      fc.property(protocolBytes, (body) => {
        const caps = parseCapabilities(listingLines(body));
        expect(Array.isArray(caps.names)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('STAT, LIST and UIDL', () => {
  it('parseStat gives two safe counts or POP3_PROTOCOL', () => {
    fc.assert(
      fc.property(protocolText, (text) => {
        const stat = outcome(() => parseStat(text), ['POP3_PROTOCOL']);
        if (stat) expect(isCount(stat.count) && isCount(stat.size)).toBe(true);
      }),
      RUNS,
    );
  });

  it('single LIST and UIDL lines give a positive message number or POP3_PROTOCOL', () => {
    fc.assert(
      fc.property(protocolText, (text) => {
        const size = outcome(() => parseListLine(text), ['POP3_PROTOCOL']);
        if (size) expect(size.msg >= 1 && isCount(size.size)).toBe(true);
        const uid = outcome(() => parseUidlLine(text), ['POP3_PROTOCOL']);
        if (uid) {
          expect(Number.isSafeInteger(uid.msg) && uid.msg >= 1).toBe(true);
          // RFC 1939 §7: unique-ids are visible ASCII; no control byte or space reaches the ledger.
          expect(uid.uid).toMatch(/^[\x21-\x7e]+$/);
        }
      }),
      RUNS,
    );
  });

  const listingBody = fc.oneof(
    protocolBytes,
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.nat({ max: 5 }).map(String), fc.constantFrom(...TOKENS)),
          fc.oneof(
            fc.nat().map(String),
            fc.constantFrom('uid-1', 'uid-2', 'a b', 'x\u0001y', ''),
            protocolText,
          ),
        ),
        { maxLength: 12 },
      )
      .map((rows) => Buffer.from(rows.map(([msg, value]) => `${msg} ${value}\r\n`).join(''), 'utf8')),
  );

  it('multi-line LIST: unique message numbers or POP3_PROTOCOL', () => {
    fc.assert(
      fc.property(listingBody, (body) => {
        const entries = outcome(() => parseList(body), ['POP3_PROTOCOL']);
        if (!entries) return;
        expect(new Set(entries.map((e) => e.msg)).size).toBe(entries.length);
        expect(entries.every((e) => e.msg >= 1 && isCount(e.size))).toBe(true);
      }),
      RUNS,
    );
  });

  it('multi-line UIDL: unique numbers and unique ids (never a duplicate identity) or POP3_PROTOCOL', () => {
    fc.assert(
      fc.property(listingBody, (body) => {
        const entries = outcome(() => parseUidl(body), ['POP3_PROTOCOL']);
        if (!entries) return;
        expect(new Set(entries.map((e) => e.msg)).size).toBe(entries.length);
        expect(new Set(entries.map((e) => e.uid)).size).toBe(entries.length);
      }),
      RUNS,
    );
  });
});
