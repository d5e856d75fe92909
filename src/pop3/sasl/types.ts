// The SASL module's public types, apart from the code so every mechanism file can import them
// without a cycle through index.ts.

/** Every SASL mechanism the client speaks (RFC 5034 names). */
export const SASL_MECHANISMS = [
  'PLAIN',
  'LOGIN',
  'CRAM-MD5',
  'SCRAM-SHA-1',
  'SCRAM-SHA-256',
  'XOAUTH2',
  'OAUTHBEARER',
] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

export interface SaslCredentials {
  username: string;
  password?: string;
  accessToken?: string;
  /** OAUTHBEARER only: sent as `host=` (RFC 7628 §3.1), left out when absent. */
  host?: string;
  /** OAUTHBEARER only: sent as `port=`, left out when absent. */
  port?: number;
}

export interface SaslOptions {
  /** XOAUTH2 as Microsoft 365 wants it: `AUTH XOAUTH2` alone, the payload after the empty `+ ` challenge. */
  xoauth2TwoLine?: boolean;
  /** Tests only: a fixed SCRAM client nonce instead of 24 random bytes. */
  nonce?: string;
}

/**
 * One SASL exchange (RFC 4422) as RFC 5034's AUTH runs it. Bytes in, bytes out: the caller does the
 * base64 and the `+ ` lines.
 *
 * Call `initialResponse()` only if its bytes are sent with `AUTH <mech> <base64>`. When the AUTH line
 * would pass 255 octets (RFC 5034 §4) send `AUTH <mech>` alone and don't call it: the first `respond()`
 * to the server's empty challenge then returns the same bytes.
 */
export interface SaslSession {
  readonly mechanism: SaslMechanismName;
  /** Client-first bytes, or null when the mechanism waits for a challenge (LOGIN, CRAM-MD5, XOAUTH2 two-line). */
  initialResponse(): Buffer | null;
  /** Answers one server challenge (already base64-decoded); an empty Buffer is sent as an empty line. */
  respond(challenge: Buffer): Buffer;
  /** Called once when the server answers +OK; throws when that +OK can't be believed (SCRAM unverified). */
  complete(): void;
}
