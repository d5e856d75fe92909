import { describe, expect, it } from 'vitest';
import { createSaslSession } from '../../../../src/pop3/sasl/index.ts';
import { expectCode, text, utf8 } from './helpers.ts';

const creds = { username: 'tim', password: 'tanstaaf' };

describe('PLAIN (RFC 4616)', () => {
  it('sends \\0user\\0pass as the initial response, authzid empty', () => {
    const session = createSaslSession('PLAIN', creds);
    expect(session.initialResponse()).toEqual(Buffer.from('\0tim\0tanstaaf'));
    expect(() => session.complete()).not.toThrow();
  });

  it('encodes UTF-8', () => {
    const session = createSaslSession('PLAIN', { username: 'jos\u00e9', password: 'p\u00e4ss' });
    expect(session.initialResponse()).toEqual(
      Buffer.from([0, 0x6a, 0x6f, 0x73, 0xc3, 0xa9, 0, 0x70, 0xc3, 0xa4, 0x73, 0x73]),
    );
  });

  it('answers the empty challenge when no initial response was sent (RFC 5034 §4)', () => {
    const session = createSaslSession('PLAIN', creds);
    expect(text(session.respond(Buffer.alloc(0)))).toBe('\0tim\0tanstaaf');
  });

  it('refuses a challenge after the credentials went out', () => {
    const session = createSaslSession('PLAIN', creds);
    session.initialResponse();
    expectCode(() => session.respond(Buffer.alloc(0)), 'POP3_SASL_FAILED');
  });

  it('refuses a non-empty first challenge', () => {
    expectCode(() => createSaslSession('PLAIN', creds).respond(utf8('hello')), 'POP3_SASL_FAILED');
  });

  it('refuses a NUL in username or password', () => {
    expectCode(() => createSaslSession('PLAIN', { username: 'a\0b', password: 'p' }), 'POP3_BAD_ARGUMENT');
    expectCode(() => createSaslSession('PLAIN', { username: 'a', password: 'p\0' }), 'POP3_BAD_ARGUMENT');
  });

  it('needs a password', () => {
    expectCode(
      () => createSaslSession('PLAIN', { username: 'a', accessToken: 't' }),
      'POP3_CREDENTIALS_MISSING',
    );
  });
});

describe('LOGIN', () => {
  it('waits for the server, then answers username and password whatever the prompt says', () => {
    const session = createSaslSession('LOGIN', creds);
    expect(session.initialResponse()).toBeNull();
    expect(text(session.respond(utf8('User Name\0')))).toBe('tim');
    expect(text(session.respond(utf8('Password:')))).toBe('tanstaaf');
    expect(() => session.complete()).not.toThrow();
  });

  it('accepts the usual Username:/Password: prompts and empty ones', () => {
    const session = createSaslSession('LOGIN', creds);
    expect(text(session.respond(utf8('Username:')))).toBe('tim');
    expect(text(session.respond(Buffer.alloc(0)))).toBe('tanstaaf');
  });

  it('refuses a third challenge', () => {
    const session = createSaslSession('LOGIN', creds);
    session.respond(utf8('Username:'));
    session.respond(utf8('Password:'));
    expectCode(() => session.respond(utf8('Again:')), 'POP3_SASL_FAILED');
  });
});
