// Provider replies (Gmail, Exchange Online) that carry more than their RFC 3206 code: each ends as the code
// whose retry rule fits, with its fix id; the server's RFC 3206 code still wins where it disagrees.
import { describe, expect, it } from 'vitest';
import { errorFromStatus, parseStatusLine } from '../../../src/pop3/index.ts';

function err(line: string, command: string) {
  const status = parseStatusLine(Buffer.from(line));
  if (status.kind === 'continue') throw new Error('not an error');
  return errorFromStatus(status, command);
}

describe('provider replies', () => {
  it.each([
    // Gmail
    [
      '-ERR [AUTH] Web login required: https://support.google.com/mail/answer/78754',
      'PASS ****',
      'POP3_AUTH_FAILED',
      'gmail-web-login-required',
    ],
    [
      '-ERR [AUTH] Application-specific password required: https://support.google.com/accounts/answer/185833',
      'PASS ****',
      'POP3_AUTH_FAILED',
      'gmail-app-password-required',
    ],
    [
      '-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.',
      'PASS ****',
      'POP3_SYS_PERM',
      'gmail-pop-disabled',
    ],
    [
      '-ERR [SYS/TEMP] Temporary system problem. Please try again later.',
      'AUTH XOAUTH2 ****',
      'POP3_SYS_TEMP',
      'throttled',
    ],
    // Exchange Online
    [
      '-ERR Logon failure: unknown user name or bad password.',
      'AUTH XOAUTH2 ****',
      'POP3_AUTH_FAILED',
      'logon-failure',
    ],
    ['-ERR Server Unavailable. 21', 'PASS ****', 'POP3_SYS_TEMP', 'exchange-server-unavailable'],
    ['-ERR Server Unavailable. 15', 'RETR 3', 'POP3_SYS_TEMP', 'exchange-server-unavailable'],
    ['-ERR Command rejected.', 'AUTH XOAUTH2 ****', 'POP3_SYS_TEMP', 'throttled'],
    ['-ERR [SYS/TEMP] The server is throttling this user', 'RETR 9', 'POP3_SYS_TEMP', 'throttled'],
  ])('%s → %s', (line, command, code, known) => {
    const error = err(line, command);
    expect(error).toMatchObject({ code, known });
    expect(error.retryable).toBe(code === 'POP3_SYS_TEMP');
    // The server's own text stays, and the fix follows it.
    expect(error.serverText).toBe(line.replace(/^-ERR (\[[^\]]+\] )?/, ''));
    expect(error.message.length).toBeGreaterThan(line.length);
  });

  it('lets the RFC 3206 code win over a rule that disagrees', () => {
    expect(err('-ERR [AUTH] bad credentials, try again later', 'PASS ****')).toMatchObject({
      code: 'POP3_AUTH_FAILED',
      known: undefined,
    });
    expect(err('-ERR [IN-USE] Server Unavailable. 21', 'PASS ****').code).toBe('POP3_IN_USE');
    expect(err('-ERR [LOGIN-DELAY] too many logins', 'PASS ****').code).toBe('POP3_LOGIN_DELAY');
  });

  it('leaves other replies alone', () => {
    expect(err('-ERR nope', 'PASS ****')).toMatchObject({ code: 'POP3_AUTH_FAILED', known: undefined });
    expect(err('-ERR no such message', 'RETR 4')).toMatchObject({ code: 'POP3_ERR', known: undefined });
  });
});
