import { describe, expect, it } from 'vitest';
import { createSaslSession, type SaslSession } from '../../../../src/pop3/sasl/index.ts';
import { escapeSaslName } from '../../../../src/pop3/sasl/shared.ts';
import { expectCode, text, utf8 } from './helpers.ts';

// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256) example exchanges, user "user", password "pencil".
const SHA1 = {
  mechanism: 'SCRAM-SHA-1',
  nonce: 'fyko+d2lbbFgONRv9qkxdawL',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
} as const;

const SHA256 = {
  mechanism: 'SCRAM-SHA-256',
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
} as const;

function start(vector: typeof SHA1 | typeof SHA256, username = 'user'): SaslSession {
  return createSaslSession(vector.mechanism, { username, password: 'pencil' }, { nonce: vector.nonce });
}

function afterServerFirst(vector: typeof SHA1 | typeof SHA256): SaslSession {
  const session = start(vector);
  session.initialResponse();
  session.respond(utf8(vector.serverFirst));
  return session;
}

describe.each([SHA1, SHA256])('$mechanism RFC example', (vector) => {
  it('runs the full exchange byte-exact and verifies the server', () => {
    const session = start(vector);
    expect(session.mechanism).toBe(vector.mechanism);
    expect(text(session.initialResponse())).toBe(vector.clientFirst);
    expect(text(session.respond(utf8(vector.serverFirst)))).toBe(vector.clientFinal);
    // The server-final arrives as a last challenge; the answer is empty (RFC 4422 §3.6).
    expect(session.respond(utf8(vector.serverFinal))).toEqual(Buffer.alloc(0));
    expect(() => session.complete()).not.toThrow();
  });

  it('sends the client-first as the answer to an empty first challenge when no initial response went out', () => {
    const session = start(vector);
    expect(text(session.respond(Buffer.alloc(0)))).toBe(vector.clientFirst);
    expect(text(session.respond(utf8(vector.serverFirst)))).toBe(vector.clientFinal);
  });

  it('rejects a wrong server signature', () => {
    const session = afterServerFirst(vector);
    const wrong = `v=${Buffer.alloc(vector.mechanism === 'SCRAM-SHA-1' ? 20 : 32, 7).toString('base64')}`;
    expectCode(() => session.respond(utf8(wrong)), 'POP3_SASL_FAILED');
    expectCode(() => session.complete(), 'POP3_SASL_FAILED');
  });

  it('rejects a server signature of the wrong length', () => {
    const session = afterServerFirst(vector);
    expectCode(() => session.respond(utf8('v=AAAA')), 'POP3_SASL_FAILED');
  });

  it('refuses +OK before the server proved it knows the password', () => {
    const session = afterServerFirst(vector);
    expectCode(() => session.complete(), 'POP3_SASL_FAILED');
  });

  it('refuses +OK right after the client-first', () => {
    const session = start(vector);
    session.initialResponse();
    expectCode(() => session.complete(), 'POP3_SASL_FAILED');
  });

  it('reports the server error value of e=', () => {
    const session = afterServerFirst(vector);
    const error = expectCode(() => session.respond(utf8('e=invalid-proof')), 'POP3_SASL_FAILED');
    expect(error.serverText).toBe('invalid-proof');
  });

  it('refuses a challenge after verification', () => {
    const session = afterServerFirst(vector);
    session.respond(utf8(vector.serverFinal));
    expectCode(() => session.respond(utf8(vector.serverFinal)), 'POP3_SASL_FAILED');
  });

  it('stays failed after an error', () => {
    const session = start(vector);
    session.initialResponse();
    expectCode(() => session.respond(utf8('r=other,s=QSXCR+Q6sek8bf92,i=4096')), 'POP3_SASL_FAILED');
    expectCode(() => session.respond(utf8(vector.serverFirst)), 'POP3_SASL_FAILED');
  });
});

describe('SCRAM server-first validation', () => {
  const bad: Array<[string, string]> = [
    ['nonce not extending the client nonce', 'r=XXXX+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096'],
    ['nonce equal to the client nonce', 'r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096'],
    ['missing salt', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096'],
    ['missing iterations', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92'],
    ['missing nonce', 's=QSXCR+Q6sek8bf92,i=4096'],
    ['attributes out of order', 's=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096'],
    ['mandatory extension', 'm=ext,r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096'],
    ['salt not base64', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=not*base64,i=4096'],
    ['empty salt', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=,i=4096'],
    ['zero iterations', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=0'],
    ['non-numeric iterations', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4k'],
    ['hostile iteration count', 'r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=1000001'],
    ['non-printable nonce', 'r=fyko+d2lbbFgONRv9qkxdawL\u00013rfc,s=QSXCR+Q6sek8bf92,i=4096'],
    ['server error instead of server-first', 'e=unknown-user'],
    ['garbage', 'hello'],
    ['empty', ''],
  ];

  it.each(bad)('rejects %s', (_name, serverFirst) => {
    const session = start(SHA1);
    session.initialResponse();
    expectCode(() => session.respond(utf8(serverFirst)), 'POP3_SASL_FAILED');
  });

  it('accepts a low iteration count and trailing extensions', () => {
    const session = start(SHA1);
    session.initialResponse();
    const reply = session.respond(utf8('r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=1,x=ext'));
    expect(text(reply)).toMatch(/^c=biws,r=fyko\+d2lbbFgONRv9qkxdawL3rfc,p=[A-Za-z0-9+/]{27}=$/);
  });

  it('rejects a non-empty first challenge', () => {
    expectCode(() => start(SHA1).respond(utf8(SHA1.serverFirst)), 'POP3_SASL_FAILED');
  });

  it('rejects a malformed server-final', () => {
    const session = afterServerFirst(SHA1);
    expectCode(() => session.respond(utf8('x=whatever')), 'POP3_SASL_FAILED');
  });
});

describe('SCRAM client-first', () => {
  it('escapes = and , in the username (RFC 5802 §5.1)', () => {
    expect(escapeSaslName('a=b,c')).toBe('a=3Db=2Cc');
    expect(escapeSaslName('==,')).toBe('=3D=3D=2C');
    const session = start(SHA256, 'u=1,x');
    expect(text(session.initialResponse())).toBe('n,,n=u=3D1=2Cx,r=rOprNGfwEbeRWgbNEkqO');
  });

  it('makes a fresh 24-byte base64 nonce by default', () => {
    const first = (): string =>
      text(createSaslSession('SCRAM-SHA-256', { username: 'u', password: 'p' }).initialResponse()) ?? '';
    const [a, b] = [first(), first()];
    expect(a).toMatch(/^n,,n=u,r=[A-Za-z0-9+/]{32}$/);
    expect(a).not.toBe(b);
  });

  it('refuses a test nonce containing a comma', () => {
    expectCode(
      () => createSaslSession('SCRAM-SHA-1', { username: 'u', password: 'p' }, { nonce: 'a,b' }),
      'POP3_BAD_ARGUMENT',
    );
  });

  it('needs a password', () => {
    expectCode(() => createSaslSession('SCRAM-SHA-1', { username: 'u' }), 'POP3_CREDENTIALS_MISSING');
  });
});
