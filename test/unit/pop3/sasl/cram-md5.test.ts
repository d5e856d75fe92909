import { describe, expect, it } from 'vitest';
import { createSaslSession } from '../../../../src/pop3/sasl/index.ts';
import { expectCode, text, utf8 } from './helpers.ts';

describe('CRAM-MD5 (RFC 2195)', () => {
  const creds = { username: 'tim', password: 'tanstaaftanstaaf' };

  it('matches the RFC 2195 example', () => {
    const session = createSaslSession('CRAM-MD5', creds);
    expect(session.initialResponse()).toBeNull();
    const reply = session.respond(utf8('<1896.697170952@postoffice.reston.mci.net>'));
    expect(text(reply)).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(reply.toString('base64')).toBe('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw');
    expect(() => session.complete()).not.toThrow();
  });

  it('refuses an empty challenge', () => {
    expectCode(() => createSaslSession('CRAM-MD5', creds).respond(Buffer.alloc(0)), 'POP3_SASL_FAILED');
  });

  it('refuses a second challenge', () => {
    const session = createSaslSession('CRAM-MD5', creds);
    session.respond(utf8('<1.2@host>'));
    expectCode(() => session.respond(utf8('<1.2@host>')), 'POP3_SASL_FAILED');
  });

  it('needs a password', () => {
    expectCode(() => createSaslSession('CRAM-MD5', { username: 'tim' }), 'POP3_CREDENTIALS_MISSING');
  });
});
