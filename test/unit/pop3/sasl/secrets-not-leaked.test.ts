// secrets-not-logged: no error thrown by any SASL mechanism or by chooseAuth carries the password, the
// token or the AUTH payload, in its message, its fields, its stack or its cause chain.
import { describe, expect, it } from 'vitest';
import {
  chooseAuth,
  createSaslSession,
  SASL_MECHANISMS,
  type SaslCredentials,
} from '../../../../src/pop3/sasl/index.ts';
import { thrown, utf8 } from './helpers.ts';

const PASSWORD = 'Pw-0f-S3cret-hunter2';
const TOKEN = 'ya29.T0ken-S3cret-xyz';
const creds: SaslCredentials = {
  username: 'alice',
  password: PASSWORD,
  accessToken: TOKEN,
  host: 'h',
  port: 110,
};

const needles = [
  PASSWORD,
  TOKEN,
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(TOKEN).toString('base64'),
];

function everything(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 5) return String(error);
  const own = JSON.stringify(Object.fromEntries(Object.entries(error)));
  return [error.message, error.stack, own, String(error), everything(error.cause, depth + 1)].join('\n');
}

function expectClean(error: unknown): void {
  const dump = everything(error);
  for (const needle of needles) expect(dump).not.toContain(needle);
}

describe('secrets-not-logged', () => {
  it.each(SASL_MECHANISMS)('%s: errors from hostile challenges carry no secret', (mechanism) => {
    const session = createSaslSession(mechanism, creds, { nonce: 'abc' });
    session.initialResponse();
    let failures = 0;
    for (const challenge of [
      Buffer.alloc(0),
      utf8('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096'),
      utf8('v=AAAA'),
      utf8('x'),
    ]) {
      try {
        session.respond(challenge);
      } catch (error) {
        failures++;
        expectClean(error);
      }
    }
    try {
      session.complete();
    } catch (error) {
      failures++;
      expectClean(error);
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('SCRAM wrong signature and e= carry no secret', () => {
    for (const final of ['v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'e=other-error']) {
      const session = createSaslSession('SCRAM-SHA-1', creds, { nonce: 'abc' });
      session.initialResponse();
      session.respond(utf8('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096'));
      expectClean(thrown(() => session.respond(utf8(final))));
    }
  });

  it('refused credentials carry no secret', () => {
    const nulPassword = `${PASSWORD}\0`;
    expectClean(thrown(() => createSaslSession('PLAIN', { username: 'a', password: nulPassword })));
    const badToken = `${TOKEN}\x01`;
    expectClean(thrown(() => createSaslSession('XOAUTH2', { username: 'a', accessToken: badToken })));
    expectClean(thrown(() => createSaslSession('OAUTHBEARER', { username: 'a', accessToken: badToken })));
    expectClean(thrown(() => chooseAuth('xoauth2', ['PLAIN'], { user: true }, creds)));
    expectClean(thrown(() => chooseAuth('auto', ['XOAUTH2'], { user: false }, { password: PASSWORD })));
  });
});
