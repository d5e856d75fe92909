// What the SASL mechanisms share: their errors and the "client speaks first" step. Error messages name
// the problem only, never a credential, a challenge or a payload.
import { Pop3Error } from '../errors.ts';
import type { SaslMechanismName } from './types.ts';

export function saslFailed(mechanism: SaslMechanismName, reason: string, serverText?: string): Pop3Error {
  return new Pop3Error(
    'POP3_SASL_FAILED',
    `${mechanism}: ${reason}`,
    serverText === undefined ? {} : { serverText },
  );
}

/** An empty string counts as absent: a blank password or token can only be a configuration slip. */
export function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

export function requireSecret(
  mechanism: SaslMechanismName,
  value: string | undefined,
  what: 'password' | 'access token',
): string {
  if (present(value)) return value;
  throw new Pop3Error('POP3_CREDENTIALS_MISSING', `${mechanism} needs a ${what}`);
}

/** Refuses a value holding a byte the mechanism uses as a separator; the value itself is not echoed. */
export function refuseSeparator(
  mechanism: SaslMechanismName,
  value: string,
  separator: string,
  what: string,
): void {
  if (value.includes(separator)) {
    const hex = separator.charCodeAt(0).toString(16).padStart(2, '0');
    throw new Pop3Error(
      'POP3_BAD_ARGUMENT',
      `${mechanism}: the ${what} contains the separator byte 0x${hex}`,
    );
  }
}

/**
 * The client-first message of PLAIN, SCRAM, XOAUTH2 and OAUTHBEARER: sent either as the AUTH initial
 * response or as the answer to the server's empty first challenge (RFC 4422 §3.3, RFC 5034 §4). A copy
 * is handed out each time so the caller may wipe what it wrote.
 */
export class ClientFirst {
  #sent = false;
  readonly #mechanism: SaslMechanismName;
  readonly #payload: Buffer;

  constructor(mechanism: SaslMechanismName, payload: Buffer) {
    this.#mechanism = mechanism;
    this.#payload = payload;
  }

  get sent(): boolean {
    return this.#sent;
  }

  initial(): Buffer {
    this.#sent = true;
    return Buffer.from(this.#payload);
  }

  /** The server's first challenge must be empty for these mechanisms (RFC 4616 §2, RFC 5802 §5, RFC 7628 §3.1). */
  answer(challenge: Buffer): Buffer {
    if (challenge.length > 0) throw saslFailed(this.#mechanism, 'the first challenge must be empty');
    return this.initial();
  }
}

/**
 * The `saslname` escaping of RFC 5802 §5.1 (SCRAM username) and RFC 5801 §4 (gs2 authzid, used by
 * OAUTHBEARER): `=` becomes `=3D` first, then `,` becomes `=2C`.
 */
export function escapeSaslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}
