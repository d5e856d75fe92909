import { describe, expect, it } from 'vitest';
import { createSaslSession } from '../../../../src/pop3/sasl/index.ts';
import { expectCode, text, utf8 } from './helpers.ts';

const errorJson = utf8('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}');

describe('XOAUTH2', () => {
  const creds = {
    username: 'someuser@example.com',
    accessToken: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg',
  };
  const payload =
    'user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01';

  it('sends the payload as the initial response', () => {
    const session = createSaslSession('XOAUTH2', creds);
    expect(text(session.initialResponse())).toBe(payload);
    expect(() => session.complete()).not.toThrow();
  });

  it('two-line form: AUTH XOAUTH2 alone, payload after the empty challenge (Microsoft 365)', () => {
    const session = createSaslSession('XOAUTH2', creds, { xoauth2TwoLine: true });
    expect(session.initialResponse()).toBeNull();
    expect(text(session.respond(Buffer.alloc(0)))).toBe(payload);
    expect(() => session.complete()).not.toThrow();
  });

  it.each([false, true])(
    'answers the JSON error challenge with an empty response (two-line %s)',
    (twoLine) => {
      const session = createSaslSession('XOAUTH2', creds, { xoauth2TwoLine: twoLine });
      if (!twoLine) session.initialResponse();
      else session.respond(Buffer.alloc(0));
      expect(session.respond(errorJson)).toEqual(Buffer.alloc(0));
      expectCode(() => session.respond(errorJson), 'POP3_SASL_FAILED');
      // +OK after the server reported an error is not believable.
      expectCode(() => session.complete(), 'POP3_SASL_FAILED');
    },
  );

  it('refuses \\x01 in the username or token', () => {
    expectCode(
      () => createSaslSession('XOAUTH2', { username: 'a\x01', accessToken: 't' }),
      'POP3_BAD_ARGUMENT',
    );
    expectCode(
      () => createSaslSession('XOAUTH2', { username: 'a', accessToken: 't\x01' }),
      'POP3_BAD_ARGUMENT',
    );
  });

  it('needs a token', () => {
    expectCode(
      () => createSaslSession('XOAUTH2', { username: 'a', password: 'p' }),
      'POP3_CREDENTIALS_MISSING',
    );
  });
});

describe('OAUTHBEARER (RFC 7628)', () => {
  const token = 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==';

  it('encodes the RFC 7628 §4.1 example byte-exact', () => {
    const session = createSaslSession('OAUTHBEARER', {
      username: 'user@example.com',
      accessToken: token,
      host: 'server.example.com',
      port: 143,
    });
    expect(text(session.initialResponse())).toBe(
      `n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer ${token}\x01\x01`,
    );
    expect(() => session.complete()).not.toThrow();
  });

  it('leaves out host and port when not given', () => {
    const session = createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't' });
    expect(text(session.initialResponse())).toBe('n,a=u,\x01auth=Bearer t\x01\x01');
  });

  it('escapes , and = in the authzid', () => {
    const session = createSaslSession('OAUTHBEARER', { username: 'a,b=c', accessToken: 't' });
    expect(text(session.initialResponse())).toBe('n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01');
  });

  it('answers an error challenge with \\x01 and then refuses +OK', () => {
    const session = createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't' });
    session.initialResponse();
    expect(session.respond(errorJson)).toEqual(Buffer.from([1]));
    expectCode(() => session.respond(errorJson), 'POP3_SASL_FAILED');
    expectCode(() => session.complete(), 'POP3_SASL_FAILED');
  });

  it('answers the empty challenge when no initial response was sent', () => {
    const session = createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't' });
    expect(text(session.respond(Buffer.alloc(0)))).toBe('n,a=u,\x01auth=Bearer t\x01\x01');
  });

  it.each([0, 65_536, 1.5])('refuses port %s', (port) => {
    expectCode(
      () => createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't', port }),
      'POP3_BAD_ARGUMENT',
    );
  });

  it('refuses \\x01 in the token or host', () => {
    expectCode(
      () => createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't\x01' }),
      'POP3_BAD_ARGUMENT',
    );
    expectCode(
      () => createSaslSession('OAUTHBEARER', { username: 'u', accessToken: 't', host: 'h\x01' }),
      'POP3_BAD_ARGUMENT',
    );
  });
});
