// The Redis keys of one credential, all under the hash tag `{oauth:<credentialId>}` right after the prefix
// (like the mailbox keys of src/ledger/keys.ts), so they share one Redis Cluster slot. Tokens that act as a
// user (service accounts) are kept per user; the key holds a digest of the user name, never the name.
import { createHash } from 'node:crypto';
import { PophookError } from '../errors.ts';

export interface CredentialKeys {
  /** String (JSON: accessToken, expiresAt, issuedAt), PX = what is left of the token's life. */
  readonly token: string;
  /** String: the single-flight lock of a token request (`<random> <owner>`). */
  readonly lock: string;
  /** Hash of the credential: field → the last failed token request (JSON, see cache.ts StoredFailure). */
  readonly errors: string;
  /** This token's field in `errors`: `app`, or the user digest. */
  readonly errorField: string;
}

const CREDENTIAL_ID = /^[A-Za-z0-9_-]+$/;

/** `subject` is the mailbox user for per-user tokens, undefined for tokens of the whole application. */
export function credentialKeys(prefix: string, credential: string, subject?: string): CredentialKeys {
  if (!CREDENTIAL_ID.test(credential) || prefix.includes('{') || prefix.includes('}')) {
    throw new PophookError('CONFIG_INVALID', 'credential id or redis prefix unfit for a Redis key', {
      details: { credential },
    });
  }
  const base = `${prefix}:{oauth:${credential}}`;
  const digest =
    subject === undefined ? undefined : createHash('sha256').update(subject).digest('hex').slice(0, 32);
  const user = digest === undefined ? '' : `:${digest}`;
  return {
    token: `${base}:token${user}`,
    lock: `${base}:lock${user}`,
    errors: `${base}:errors`,
    errorField: digest ?? 'app',
  };
}
