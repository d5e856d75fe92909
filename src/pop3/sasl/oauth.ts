// XOAUTH2 (Google's and Microsoft's OAuth 2.0 SASL format) and OAUTHBEARER (RFC 7628). Both send a
// bearer token in the client-first message; on failure the server sends a JSON error as one more
// challenge, which the client must answer (XOAUTH2: empty, OAUTHBEARER: a lone \x01) before the -ERR.
import { Pop3Error } from '../errors.ts';
import { ClientFirst, escapeSaslName, refuseSeparator, requireSecret, saslFailed } from './shared.ts';
import type { SaslCredentials, SaslMechanismName, SaslSession } from './types.ts';

const KVSEP = '\x01';

export function createXoauth2(credentials: SaslCredentials, twoLine: boolean): SaslSession {
  const token = requireSecret('XOAUTH2', credentials.accessToken, 'access token');
  refuseSeparator('XOAUTH2', credentials.username, KVSEP, 'username');
  refuseSeparator('XOAUTH2', token, KVSEP, 'access token');
  const payload = `user=${credentials.username}${KVSEP}auth=Bearer ${token}${KVSEP}${KVSEP}`;
  const first = new ClientFirst('XOAUTH2', Buffer.from(payload, 'utf8'));
  // Microsoft 365 refuses the payload on the AUTH line, so the two-line form never offers it there.
  return tokenSession('XOAUTH2', first, twoLine, Buffer.alloc(0));
}

/** RFC 7628 §3.1: gs2 header `n,a=<authzid>,`, then `host`, `port` and `auth` key-value pairs. */
export function createOauthBearer(credentials: SaslCredentials): SaslSession {
  const token = requireSecret('OAUTHBEARER', credentials.accessToken, 'access token');
  refuseSeparator('OAUTHBEARER', token, KVSEP, 'access token');
  refuseSeparator('OAUTHBEARER', credentials.username, KVSEP, 'username');
  const pairs: string[] = [];
  if (credentials.host !== undefined) {
    refuseSeparator('OAUTHBEARER', credentials.host, KVSEP, 'host');
    pairs.push(`host=${credentials.host}`);
  }
  if (credentials.port !== undefined) pairs.push(`port=${checkedPort(credentials.port)}`);
  pairs.push(`auth=Bearer ${token}`);
  const gs2Header = `n,a=${escapeSaslName(credentials.username)},`;
  const payload = `${gs2Header}${KVSEP}${pairs.map((pair) => `${pair}${KVSEP}`).join('')}${KVSEP}`;
  return tokenSession(
    'OAUTHBEARER',
    new ClientFirst('OAUTHBEARER', Buffer.from(payload, 'utf8')),
    false,
    Buffer.from(KVSEP),
  );
}

/** The shared flow: client-first, then at most one error challenge answered with `errorAnswer`. */
function tokenSession(
  mechanism: SaslMechanismName,
  first: ClientFirst,
  waitForChallenge: boolean,
  errorAnswer: Buffer,
): SaslSession {
  let serverError = false;
  return {
    mechanism,
    initialResponse: () => (waitForChallenge ? null : first.initial()),
    respond(challenge) {
      if (!first.sent) return first.answer(challenge);
      // The JSON error (status, schemes, scope) is not parsed: the -ERR that follows is what the client reports.
      if (serverError) throw saslFailed(mechanism, 'unexpected challenge after the error challenge');
      serverError = true;
      return Buffer.from(errorAnswer);
    },
    complete() {
      if (serverError) throw saslFailed(mechanism, 'the server answered +OK after reporting a token error');
    },
  };
}

function checkedPort(port: number): number {
  if (Number.isInteger(port) && port >= 1 && port <= 65_535) return port;
  throw new Pop3Error('POP3_BAD_ARGUMENT', 'OAUTHBEARER: port must be an integer from 1 to 65535');
}
