// Which authentication method to run, from the mailbox's `auth` setting, the server's CAPA (SASL list,
// USER) and the credentials at hand. Only decides; the client runs the commands and checks APOP's
// greeting timestamp.
import { Pop3Error } from '../errors.ts';
import type { AuthMethod } from '../types.ts';
import { present } from './shared.ts';
import type { SaslMechanismName } from './types.ts';

export type ChosenAuth = SaslMechanismName | 'USER' | 'APOP';

/**
 * What `auto` tries with a password, strongest first. SCRAM proves both sides and never sends the
 * password. PLAIN, LOGIN and USER send it, but only inside TLS unless the mailbox opts into plaintext;
 * PLAIN first because it is one round trip. CRAM-MD5 comes last, after USER: it only works when the
 * server keeps this user's password in clear (many advertise it server-wide and then reject accounts
 * whose password is hashed, which would read as a wrong password), and its MD5 answer gives an
 * eavesdropper a dictionary attack. It is chosen only when the server offers nothing else for a password.
 * APOP is never chosen by `auto` (MD5 over a clear password, same storage problem): only by name.
 */
const PASSWORD_ORDER: readonly ChosenAuth[] = [
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
  'PLAIN',
  'LOGIN',
  'USER',
  'CRAM-MD5',
];

/** What `auto` tries with an access token. XOAUTH2 first: Google and Microsoft offer it, not always OAUTHBEARER. */
const TOKEN_ORDER: readonly ChosenAuth[] = ['XOAUTH2', 'OAUTHBEARER'];

const BY_NAME: Record<Exclude<AuthMethod, 'auto'>, ChosenAuth> = {
  user: 'USER',
  apop: 'APOP',
  plain: 'PLAIN',
  login: 'LOGIN',
  'cram-md5': 'CRAM-MD5',
  'scram-sha-1': 'SCRAM-SHA-1',
  'scram-sha-256': 'SCRAM-SHA-256',
  xoauth2: 'XOAUTH2',
  oauthbearer: 'OAUTHBEARER',
};

interface Offer {
  sasl: ReadonlySet<string>;
  /** USER/PASS may be tried: CAPA lists USER, or the server listed no SASL at all (an RFC 1939 server). */
  user: boolean;
  listed: readonly string[];
}

/**
 * Picks the method for `requested`. With both a token and a password, `auto` prefers the token (it was
 * configured on purpose) and falls back to the password mechanisms. A blank password or token counts as
 * absent. Throws POP3_CREDENTIALS_MISSING or POP3_AUTH_UNSUPPORTED.
 */
export function chooseAuth(
  requested: AuthMethod,
  serverSasl: readonly string[],
  capabilities: { user: boolean },
  credentials: { password?: string; accessToken?: string },
): ChosenAuth {
  const listed = serverSasl.map((name) => name.trim().toUpperCase()).filter((name) => name !== '');
  const offer: Offer = { sasl: new Set(listed), user: capabilities.user || listed.length === 0, listed };
  const hasPassword = present(credentials.password);
  const hasToken = present(credentials.accessToken);
  if (requested === 'auto') {
    if (!hasPassword && !hasToken) throw missing('auto', 'a password or an access token');
    const candidates = [...(hasToken ? TOKEN_ORDER : []), ...(hasPassword ? PASSWORD_ORDER : [])];
    const found = candidates.find((method) => isOffered(method, offer));
    if (found === undefined) throw unsupported(requested, offer, capabilities.user);
    return found;
  }
  const method = Object.hasOwn(BY_NAME, requested) ? BY_NAME[requested] : undefined;
  if (method === undefined) throw unsupported(requested, offer, capabilities.user);
  const needsToken = method === 'XOAUTH2' || method === 'OAUTHBEARER';
  if (needsToken && !hasToken) throw missing(requested, 'an access token');
  if (!needsToken && !hasPassword) throw missing(requested, 'a password');
  // USER is always worth a try when asked for by name; APOP depends on the greeting, which the client checks.
  if (method === 'USER' || method === 'APOP' || offer.sasl.has(method)) return method;
  throw unsupported(requested, offer, capabilities.user);
}

function isOffered(method: ChosenAuth, offer: Offer): boolean {
  return method === 'USER' ? offer.user : offer.sasl.has(method);
}

function missing(requested: string, what: string): Pop3Error {
  return new Pop3Error('POP3_CREDENTIALS_MISSING', `auth ${requested} needs ${what}`);
}

function unsupported(requested: string, offer: Offer, capaUser: boolean): Pop3Error {
  const sasl = offer.listed.length > 0 ? offer.listed.join(' ') : 'none';
  return new Pop3Error(
    'POP3_AUTH_UNSUPPORTED',
    `auth ${requested}: not possible with the given credentials; the server offers SASL ${sasl}, USER ${capaUser ? 'yes' : 'no'}`,
  );
}
