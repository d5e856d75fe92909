// SCRAM message syntax (RFC 5802 §7): parsing the server-first and server-final messages, with the
// bounds a client needs against a hostile server. Pure string work; the crypto lives in scram.ts.
import { saslFailed } from './shared.ts';
import type { SaslMechanismName } from './types.ts';

/**
 * Iteration bounds. RFC 5802 §5.1 only asks for a positive count and RFC 7677 §4 recommends at least
 * 4096. A low count makes the proof cheaper to brute-force for whoever sees the exchange, but TLS hides
 * it and refusing would lock users out of servers configured that way, so 1 is accepted. The upper
 * bound stops a hostile server from making PBKDF2 block the event loop: 1e6 rounds take about 0.3 s on
 * this machine (SHA-1 or SHA-256), far above the 4096 to 100 000 that servers use.
 */
export const MIN_ITERATIONS = 1;
export const MAX_ITERATIONS = 1_000_000;

/** RFC 5802 §7 `printable`: %x21-2B / %x2D-7E, i.e. visible ASCII without the comma. */
export const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_SALT_BYTES = 1024;
const MAX_ERROR_CHARS = 200;

export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

/** Value of attribute `name` in `attribute`, or a SASL failure naming what is missing. */
function attributeValue(mechanism: SaslMechanismName, attribute: string | undefined, name: string): string {
  if (attribute?.startsWith(`${name}=`)) return attribute.slice(2);
  throw saslFailed(mechanism, `server-first-message lacks ${name}= in its place`);
}

/** `server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]`. */
export function parseServerFirst(
  mechanism: SaslMechanismName,
  message: string,
  clientNonce: string,
): ServerFirst {
  const [r, s, i] = message.split(',');
  // RFC 5802 §5.1: a client that doesn't know a mandatory extension must fail the exchange.
  if (r?.startsWith('m='))
    throw saslFailed(mechanism, 'the server asks for an unsupported mandatory extension');
  const nonce = attributeValue(mechanism, r, 'r');
  const saltText = attributeValue(mechanism, s, 's');
  const iterationText = attributeValue(mechanism, i, 'i');
  // RFC 5802 §5.1: the server nonce extends the client's; a different one means a replay or a mix-up.
  if (!PRINTABLE.test(nonce) || !nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    throw saslFailed(mechanism, 'the server nonce does not extend the client nonce');
  }
  if (saltText === '' || !BASE64.test(saltText) || saltText.length > (MAX_SALT_BYTES * 4) / 3 + 4) {
    throw saslFailed(mechanism, 'the salt is not valid base64 of a sane length');
  }
  const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : Number.NaN;
  if (!(iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS)) {
    throw saslFailed(mechanism, `the iteration count is outside ${MIN_ITERATIONS}..${MAX_ITERATIONS}`);
  }
  return { nonce, salt: Buffer.from(saltText, 'base64'), iterations };
}

/** `server-final-message = (server-error / verifier) ["," extensions]`; returns the decoded verifier. */
export function parseServerFinal(mechanism: SaslMechanismName, message: string): Buffer {
  const [first] = message.split(',');
  if (first?.startsWith('e=')) {
    // The error value is a fixed token like `invalid-proof` (RFC 5802 §7); kept short and printable.
    const value = first.slice(2, 2 + MAX_ERROR_CHARS).replace(/[^\x20-\x7e]/g, '?');
    throw saslFailed(mechanism, 'the server reported an error', value);
  }
  if (first?.startsWith('v=') && BASE64.test(first.slice(2)) && first.length > 2) {
    return Buffer.from(first.slice(2), 'base64');
  }
  throw saslFailed(mechanism, 'malformed server-final-message');
}
