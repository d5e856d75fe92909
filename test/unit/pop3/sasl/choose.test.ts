import { describe, expect, it } from 'vitest';
import type { Pop3ErrorCode } from '../../../../src/pop3/errors.ts';
import { chooseAuth } from '../../../../src/pop3/sasl/index.ts';
import type { AuthMethod } from '../../../../src/pop3/types.ts';
import { expectCode } from './helpers.ts';

const pw = { password: 'secret' };
const token = { accessToken: 'tok' };
const both = { password: 'secret', accessToken: 'tok' };
const ALL = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'OAUTHBEARER'];

type Row = [AuthMethod, string[], boolean, { password?: string; accessToken?: string }, string];

const chosen: Row[] = [
  ['auto', ALL, true, pw, 'SCRAM-SHA-256'],
  ['auto', ['PLAIN', 'SCRAM-SHA-1', 'LOGIN'], true, pw, 'SCRAM-SHA-1'],
  ['auto', ['LOGIN', 'CRAM-MD5', 'PLAIN'], true, pw, 'PLAIN'],
  ['auto', ['CRAM-MD5', 'LOGIN'], false, pw, 'LOGIN'],
  ['auto', ['CRAM-MD5'], true, pw, 'USER'],
  ['auto', ['CRAM-MD5'], false, pw, 'CRAM-MD5'],
  ['auto', ['XOAUTH2'], true, pw, 'USER'],
  ['auto', [], false, pw, 'USER'],
  ['auto', [], true, pw, 'USER'],
  ['auto', ['plain', ' login '], false, pw, 'PLAIN'],
  ['auto', ALL, true, token, 'XOAUTH2'],
  ['auto', ['OAUTHBEARER', 'PLAIN'], true, token, 'OAUTHBEARER'],
  ['auto', ['XOAUTH2', 'PLAIN'], true, both, 'XOAUTH2'],
  ['auto', ['PLAIN'], true, both, 'PLAIN'],
  ['auto', [], false, both, 'USER'],
  ['user', ['PLAIN'], false, pw, 'USER'],
  ['apop', [], false, pw, 'APOP'],
  ['plain', ['LOGIN', 'PLAIN'], false, pw, 'PLAIN'],
  ['login', ['LOGIN'], false, pw, 'LOGIN'],
  ['cram-md5', ['CRAM-MD5', 'SCRAM-SHA-256'], false, pw, 'CRAM-MD5'],
  ['scram-sha-1', ['SCRAM-SHA-1'], false, pw, 'SCRAM-SHA-1'],
  ['scram-sha-256', ['scram-sha-256'], false, pw, 'SCRAM-SHA-256'],
  ['xoauth2', ['XOAUTH2'], false, token, 'XOAUTH2'],
  ['oauthbearer', ['OAUTHBEARER'], false, both, 'OAUTHBEARER'],
];

const refused: Array<
  [AuthMethod, string[], boolean, { password?: string; accessToken?: string }, Pop3ErrorCode]
> = [
  ['auto', ['XOAUTH2'], false, pw, 'POP3_AUTH_UNSUPPORTED'],
  ['auto', ['PLAIN'], true, token, 'POP3_AUTH_UNSUPPORTED'],
  ['auto', [], true, token, 'POP3_AUTH_UNSUPPORTED'],
  ['auto', ALL, true, {}, 'POP3_CREDENTIALS_MISSING'],
  ['auto', ALL, true, { password: '' }, 'POP3_CREDENTIALS_MISSING'],
  ['plain', ['LOGIN'], true, pw, 'POP3_AUTH_UNSUPPORTED'],
  ['plain', [], true, pw, 'POP3_AUTH_UNSUPPORTED'],
  ['cram-md5', ['PLAIN'], true, pw, 'POP3_AUTH_UNSUPPORTED'],
  ['scram-sha-256', ['SCRAM-SHA-1'], true, pw, 'POP3_AUTH_UNSUPPORTED'],
  ['xoauth2', ['OAUTHBEARER'], true, token, 'POP3_AUTH_UNSUPPORTED'],
  ['xoauth2', ['XOAUTH2'], true, pw, 'POP3_CREDENTIALS_MISSING'],
  ['plain', ['PLAIN'], true, token, 'POP3_CREDENTIALS_MISSING'],
  ['user', [], true, token, 'POP3_CREDENTIALS_MISSING'],
  ['apop', [], true, token, 'POP3_CREDENTIALS_MISSING'],
];

describe('chooseAuth', () => {
  it.each(chosen)('%s with SASL %j, USER %s, %j → %s', (requested, sasl, user, credentials, expected) => {
    expect(chooseAuth(requested, sasl, { user }, credentials)).toBe(expected);
  });

  it.each(refused)('%s with SASL %j, USER %s, %j → %s', (requested, sasl, user, credentials, code) => {
    expectCode(() => chooseAuth(requested, sasl, { user }, credentials), code);
  });

  it('refuses a method name outside the union', () => {
    expectCode(() => chooseAuth('ntlm' as AuthMethod, ['NTLM'], { user: true }, pw), 'POP3_AUTH_UNSUPPORTED');
  });
});
