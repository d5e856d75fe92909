import { describe, expect, it } from 'vitest';
import { errorFromStatus, parseStatusLine } from '../../../src/pop3/index.ts';

const parse = (line: string) => parseStatusLine(Buffer.from(line, 'utf8'));

describe('parseStatusLine', () => {
  it('parses +OK with and without text', () => {
    expect(parse('+OK')).toEqual({ kind: 'ok', text: '' });
    expect(parse('+OK 2 320')).toEqual({ kind: 'ok', text: '2 320' });
    expect(parse('+ok lower case')).toEqual({ kind: 'ok', text: 'lower case' });
  });

  it('parses -ERR and RFC 2449 response codes, hierarchical ones included', () => {
    expect(parse('-ERR no such message')).toEqual({ kind: 'err', text: 'no such message' });
    expect(parse('-ERR [IN-USE] mailbox locked')).toEqual({
      kind: 'err',
      text: 'mailbox locked',
      responseCode: 'IN-USE',
    });
    expect(parse('-ERR [SYS/TEMP] disk full')).toMatchObject({ responseCode: 'SYS/TEMP', text: 'disk full' });
    expect(parse('-ERR [sys/perm/quota]')).toMatchObject({ responseCode: 'SYS/PERM/QUOTA', text: '' });
    expect(parse('+OK [UTF8] fine')).toMatchObject({ kind: 'ok', responseCode: 'UTF8', text: 'fine' });
  });

  it('does not take a bracket later in the text for a response code', () => {
    expect(parse('-ERR oops [AUTH]')).toEqual({ kind: 'err', text: 'oops [AUTH]' });
    expect(parse('-ERR [not a code')).toEqual({ kind: 'err', text: '[not a code' });
  });

  it('parses SASL continuations', () => {
    expect(parse('+ ')).toEqual({ kind: 'continue', text: '' });
    expect(parse('+')).toEqual({ kind: 'continue', text: '' });
    expect(parse('+ dXNlcg==')).toEqual({ kind: 'continue', text: 'dXNlcg==' });
  });

  it('refuses anything else as POP3_PROTOCOL', () => {
    for (const line of ['HTTP/1.1 400 Bad Request', '', 'OK', '+OKAY', '-ERROR x', '* OK imap']) {
      expect(() => parse(line), line).toThrow(expect.objectContaining({ code: 'POP3_PROTOCOL' }));
    }
  });
});

describe('errorFromStatus', () => {
  const err = (line: string, command: string) => {
    const status = parse(line);
    if (status.kind === 'continue') throw new Error('not an error');
    return errorFromStatus(status, command);
  };

  it('maps RFC 2449/3206 codes to error codes and retryable flags', () => {
    expect(err('-ERR [IN-USE] locked', 'PASS ****')).toMatchObject({ code: 'POP3_IN_USE', retryable: true });
    expect(err('-ERR [LOGIN-DELAY] wait', 'PASS ****')).toMatchObject({
      code: 'POP3_LOGIN_DELAY',
      retryable: true,
    });
    expect(err('-ERR [SYS/TEMP] later', 'RETR 1')).toMatchObject({ code: 'POP3_SYS_TEMP', retryable: true });
    expect(err('-ERR [SYS/TEMP/DISK] later', 'RETR 1')).toMatchObject({ code: 'POP3_SYS_TEMP' });
    expect(err('-ERR [SYS/PERM] broken', 'RETR 1')).toMatchObject({
      code: 'POP3_SYS_PERM',
      retryable: false,
    });
    expect(err('-ERR [AUTH] bad', 'USER bob')).toMatchObject({ code: 'POP3_AUTH_FAILED', retryable: false });
  });

  it('treats a plain -ERR to PASS, APOP and AUTH as an authentication failure, else POP3_ERR', () => {
    expect(err('-ERR nope', 'PASS ****').code).toBe('POP3_AUTH_FAILED');
    expect(err('-ERR nope', 'APOP bob ****').code).toBe('POP3_AUTH_FAILED');
    expect(err('-ERR nope', 'AUTH PLAIN ****').code).toBe('POP3_AUTH_FAILED');
    expect(err('-ERR nope', 'DELE 3').code).toBe('POP3_ERR');
    expect(err('-ERR [UNKNOWN-CODE] nope', 'DELE 3').code).toBe('POP3_ERR');
  });

  it('keeps the masked command, the server text and the response code', () => {
    expect(err('-ERR [SYS/TEMP] try again', 'RETR 7')).toMatchObject({
      command: 'RETR 7',
      serverText: 'try again',
      responseCode: 'SYS/TEMP',
    });
  });
});
