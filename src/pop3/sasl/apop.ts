// APOP (RFC 1939 §7): the digest of the greeting's timestamp and the shared secret. Checking that the
// greeting carries a timestamp at all is the client's job; this only computes.
import { createHash } from 'node:crypto';

/** Lowercase hex MD5 of `timestamp + password`, both as UTF-8. */
export function apopDigest(timestamp: string, password: string): string {
  return createHash('md5').update(timestamp, 'utf8').update(password, 'utf8').digest('hex');
}
