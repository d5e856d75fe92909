import { describe, expect, it } from 'vitest';
import {
  assertAllowed,
  COMMAND_STATES,
  checkMessageNumber,
  encodeCommand,
  encodeSaslLine,
  isAllowed,
  isPipelinable,
} from '../../../src/pop3/index.ts';

const badArgument = expect.objectContaining({ code: 'POP3_BAD_ARGUMENT' });

describe('encodeCommand', () => {
  it('writes keyword, arguments and CRLF', () => {
    const cmd = encodeCommand('TOP', [3, 0]);
    expect(cmd.bytes.toString()).toBe('TOP 3 0\r\n');
    expect(cmd.masked).toBe('TOP 3 0');
    expect(cmd.multiline).toBe(true);
  });

  it('knows which replies are multi-line', () => {
    expect(encodeCommand('LIST').multiline).toBe(true);
    expect(encodeCommand('LIST', [1]).multiline).toBe(false);
    expect(encodeCommand('UIDL').multiline).toBe(true);
    expect(encodeCommand('UIDL', [1]).multiline).toBe(false);
    expect(encodeCommand('RETR', [1]).multiline).toBe(true);
    expect(encodeCommand('CAPA').multiline).toBe(true);
    expect(encodeCommand('STAT').multiline).toBe(false);
  });

  it('masks secrets', () => {
    expect(encodeCommand('PASS', ['hunter2']).masked).toBe('PASS ****');
    expect(encodeCommand('APOP', ['bob', 'c4c9334bac560ecc979e58001b3e22fb']).masked).toBe('APOP bob ****');
    expect(encodeCommand('AUTH', ['PLAIN', 'AGJvYgBodW50ZXIy']).masked).toBe('AUTH PLAIN ****');
    expect(encodeCommand('AUTH', ['LOGIN']).masked).toBe('AUTH LOGIN');
    expect(encodeCommand('USER', ['bob']).masked).toBe('USER bob');
    expect(encodeSaslLine('c2VjcmV0').masked).toBe('****');
    expect(encodeSaslLine('').masked).toBe('****');
    expect(encodeSaslLine('*').masked).toBe('*');
  });

  it('refuses CR, LF and NUL in arguments before anything is sent, without echoing them', () => {
    for (const arg of ['a\rb', 'a\nb', 'a\0b', 'pw\r\nDELE 1']) {
      let error: unknown;
      try {
        encodeCommand('PASS', [arg]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toEqual(badArgument);
      expect(String((error as Error).message)).not.toContain(arg);
    }
    expect(() => encodeSaslLine('abc\r\n')).toThrow(badArgument);
  });

  it('refuses empty arguments and arguments with spaces', () => {
    expect(() => encodeCommand('USER', [''])).toThrow(badArgument);
    expect(() => encodeCommand('USER', ['a b'])).toThrow(badArgument);
  });

  it('refuses message numbers that are not positive integers', () => {
    for (const msg of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => checkMessageNumber(msg), String(msg)).toThrow(badArgument);
    }
    expect(() => checkMessageNumber(1)).not.toThrow();
  });
});

describe('state table', () => {
  it('allows authentication commands only in AUTHORIZATION', () => {
    for (const cmd of ['USER', 'PASS', 'APOP', 'AUTH', 'STLS', 'UTF8'] as const) {
      expect(isAllowed('authorization', cmd)).toBe(true);
      expect(isAllowed('transaction', cmd)).toBe(false);
    }
  });

  it('allows mailbox commands only in TRANSACTION', () => {
    for (const cmd of ['STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'RSET', 'NOOP'] as const) {
      expect(isAllowed('transaction', cmd)).toBe(true);
      expect(isAllowed('authorization', cmd)).toBe(false);
    }
  });

  it('allows nothing once closed, and CAPA and QUIT before and after login', () => {
    for (const cmd of Object.keys(COMMAND_STATES) as Array<keyof typeof COMMAND_STATES>) {
      expect(isAllowed('closed', cmd)).toBe(false);
    }
    expect(isAllowed('authorization', 'QUIT') && isAllowed('transaction', 'QUIT')).toBe(true);
    expect(isAllowed('authorization', 'CAPA') && isAllowed('transaction', 'CAPA')).toBe(true);
    expect(() => assertAllowed('authorization', 'RETR')).toThrow(
      expect.objectContaining({ code: 'POP3_STATE' }),
    );
  });

  it('never pipelines commands that change the session or its security', () => {
    for (const cmd of ['USER', 'PASS', 'APOP', 'AUTH', 'STLS', 'UTF8', 'QUIT'] as const) {
      expect(isPipelinable(cmd)).toBe(false);
    }
    for (const cmd of ['RETR', 'DELE', 'LIST', 'UIDL', 'STAT'] as const)
      expect(isPipelinable(cmd)).toBe(true);
  });
});
