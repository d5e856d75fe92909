// The SASL module's entry point (RFC 4422 mechanisms for RFC 5034 AUTH, plus APOP's digest and the
// method choice): the client imports only this file.
import { createCramMd5 } from './cram-md5.ts';
import { createOauthBearer, createXoauth2 } from './oauth.ts';
import { createLogin, createPlain } from './plain-login.ts';
import { createScram } from './scram.ts';
import type { SaslCredentials, SaslMechanismName, SaslOptions, SaslSession } from './types.ts';

export { apopDigest } from './apop.ts';
export { chooseAuth } from './choose.ts';
export type { SaslCredentials, SaslMechanismName, SaslOptions, SaslSession } from './types.ts';
export { SASL_MECHANISMS } from './types.ts';

/**
 * Starts one exchange. Throws POP3_CREDENTIALS_MISSING when the mechanism's secret is absent and
 * POP3_BAD_ARGUMENT when a credential holds the mechanism's separator byte (NUL for PLAIN, \x01 for the
 * OAuth formats).
 */
export function createSaslSession(
  mechanism: SaslMechanismName,
  credentials: SaslCredentials,
  options: SaslOptions = {},
): SaslSession {
  switch (mechanism) {
    case 'PLAIN':
      return createPlain(credentials);
    case 'LOGIN':
      return createLogin(credentials);
    case 'CRAM-MD5':
      return createCramMd5(credentials);
    case 'SCRAM-SHA-1':
    case 'SCRAM-SHA-256':
      return createScram(mechanism, credentials, options.nonce);
    case 'XOAUTH2':
      return createXoauth2(credentials, options.xoauth2TwoLine === true);
    case 'OAUTHBEARER':
      return createOauthBearer(credentials);
  }
}
