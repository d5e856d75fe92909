// PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login): the password itself goes to the server, so
// the client only offers them over TLS unless the mailbox opts into plaintext.
import { ClientFirst, refuseSeparator, requireSecret, saslFailed } from './shared.ts';
import type { SaslCredentials, SaslSession } from './types.ts';

/** `authzid \0 authcid \0 passwd` with an empty authzid: act as the user we log in as (RFC 4616 §2). */
export function createPlain(credentials: SaslCredentials): SaslSession {
  const password = requireSecret('PLAIN', credentials.password, 'password');
  refuseSeparator('PLAIN', credentials.username, '\0', 'username');
  refuseSeparator('PLAIN', password, '\0', 'password');
  const first = new ClientFirst('PLAIN', Buffer.from(`\0${credentials.username}\0${password}`, 'utf8'));
  return {
    mechanism: 'PLAIN',
    initialResponse: () => first.initial(),
    respond(challenge) {
      if (first.sent) throw saslFailed('PLAIN', 'unexpected challenge after the credentials were sent');
      return first.answer(challenge);
    },
    complete() {},
  };
}

/**
 * LOGIN: the server prompts twice and the client answers username, then password. The prompt texts vary
 * (`Username:`, `User Name`, empty) and carry no meaning, so only their order counts.
 */
export function createLogin(credentials: SaslCredentials): SaslSession {
  const password = requireSecret('LOGIN', credentials.password, 'password');
  const answers = [credentials.username, password];
  let step = 0;
  return {
    mechanism: 'LOGIN',
    initialResponse: () => null,
    respond() {
      const answer = answers[step];
      if (answer === undefined) throw saslFailed('LOGIN', 'unexpected third challenge');
      step++;
      return Buffer.from(answer, 'utf8');
    },
    complete() {},
  };
}
