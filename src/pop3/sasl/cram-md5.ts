// CRAM-MD5 (RFC 2195): `user SP hex(HMAC-MD5(password, challenge))`. The password never crosses the
// wire, but the server must keep it (or an equivalent) in clear, and an eavesdropper can run a
// dictionary attack on the answer; choose.ts ranks it last for that reason.
import { createHmac } from 'node:crypto';
import { requireSecret, saslFailed } from './shared.ts';
import type { SaslCredentials, SaslSession } from './types.ts';

export function createCramMd5(credentials: SaslCredentials): SaslSession {
  const password = requireSecret('CRAM-MD5', credentials.password, 'password');
  let answered = false;
  return {
    mechanism: 'CRAM-MD5',
    initialResponse: () => null,
    respond(challenge) {
      if (answered) throw saslFailed('CRAM-MD5', 'unexpected second challenge');
      // RFC 2195 §2: the challenge is a msg-id style string; an empty one can only be a broken server.
      if (challenge.length === 0) throw saslFailed('CRAM-MD5', 'empty challenge');
      answered = true;
      const digest = createHmac('md5', Buffer.from(password, 'utf8')).update(challenge).digest('hex');
      return Buffer.from(`${credentials.username} ${digest}`, 'utf8');
    },
    complete() {},
  };
}
