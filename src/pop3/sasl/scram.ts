// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) without channel binding: the client proves it
// knows the password without sending it, and the server proves it knows the stored key. A server that
// says +OK without that proof is not believed (complete()).
//
// Out of scope: SASLprep (RFC 4013). The password is used as its UTF-8 bytes, which equals SASLprep's
// output for printable ASCII; the username only gets the `=3D`/`=2C` escaping of RFC 5802 §5.1.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Pop3Error } from '../errors.ts';
import { PRINTABLE, parseServerFinal, parseServerFirst, type ServerFirst } from './scram-messages.ts';
import { ClientFirst, escapeSaslName, requireSecret, saslFailed } from './shared.ts';
import type { SaslCredentials, SaslSession } from './types.ts';

type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

const HASH: Record<ScramMechanism, 'sha1' | 'sha256'> = { 'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256' };

/** gs2 header `n,,`: client does not support channel binding, no authzid (RFC 5802 §7). */
const GS2_HEADER = 'n,,';
/** `c=` of the client-final message: base64 of the gs2 header, `biws`. */
const CHANNEL_BINDING = Buffer.from(GS2_HEADER).toString('base64');
const NONCE_BYTES = 24;

type Step = 'server-first' | 'server-final' | 'verified' | 'failed';

export function createScram(
  mechanism: ScramMechanism,
  credentials: SaslCredentials,
  fixedNonce?: string,
): SaslSession {
  const password = requireSecret(mechanism, credentials.password, 'password');
  const clientNonce = fixedNonce ?? randomBytes(NONCE_BYTES).toString('base64');
  if (!PRINTABLE.test(clientNonce)) {
    throw new Pop3Error(
      'POP3_BAD_ARGUMENT',
      `${mechanism}: the client nonce must be printable ASCII without a comma`,
    );
  }
  const clientFirstBare = `n=${escapeSaslName(credentials.username)},r=${clientNonce}`;
  const first = new ClientFirst(mechanism, Buffer.from(`${GS2_HEADER}${clientFirstBare}`, 'utf8'));
  let step: Step = 'server-first';
  let serverSignature: Buffer | undefined;

  const advance = (challenge: Buffer): Buffer => {
    if (!first.sent) return first.answer(challenge);
    const message = challenge.toString('utf8');
    if (step === 'server-first') {
      const serverFirst = parseServerFirst(mechanism, message, clientNonce);
      const final = clientFinal(mechanism, password, clientFirstBare, message, serverFirst);
      serverSignature = final.serverSignature;
      step = 'server-final';
      return Buffer.from(final.message, 'utf8');
    }
    if (step === 'server-final' && serverSignature !== undefined) {
      const verifier = parseServerFinal(mechanism, message);
      if (verifier.length !== serverSignature.length || !timingSafeEqual(verifier, serverSignature)) {
        throw saslFailed(mechanism, 'the server signature is wrong: the server does not know the password');
      }
      step = 'verified';
      // RFC 4422 §3.6: additional data with success arrives as a challenge; the answer is empty.
      return Buffer.alloc(0);
    }
    throw saslFailed(mechanism, step === 'failed' ? 'the exchange already failed' : 'unexpected challenge');
  };

  return {
    mechanism,
    initialResponse: () => first.initial(),
    respond(challenge) {
      try {
        return advance(challenge);
      } catch (error) {
        step = 'failed';
        throw error;
      }
    },
    complete() {
      if (step !== 'verified') {
        throw saslFailed(
          mechanism,
          'the server said +OK without proving it knows the password (no verified v=)',
        );
      }
    },
  };
}

/** RFC 5802 §3: SaltedPassword, ClientProof and the ServerSignature to expect. */
function clientFinal(
  mechanism: ScramMechanism,
  password: string,
  clientFirstBare: string,
  serverFirstMessage: string,
  serverFirst: ServerFirst,
): { message: string; serverSignature: Buffer } {
  const hash = HASH[mechanism];
  const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data, 'utf8').digest();
  const keyLength = createHash(hash).digest().length;
  const salted = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    serverFirst.salt,
    serverFirst.iterations,
    keyLength,
    hash,
  );
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=${CHANNEL_BINDING},r=${serverFirst.nonce}`;
  const authMessage = `${clientFirstBare},${serverFirstMessage},${withoutProof}`;
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let index = 0; index < proof.length; index++) {
    proof[index] = (clientKey[index] ?? 0) ^ (clientSignature[index] ?? 0);
  }
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
  salted.fill(0);
  clientKey.fill(0);
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature };
}
