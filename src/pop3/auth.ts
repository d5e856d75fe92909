// The AUTHORIZATION phase (RFC 1939 §7 USER/PASS and APOP, RFC 5034 AUTH with SASL): refuses to send
// any secret outside TLS unless plaintext was explicitly allowed, picks the method, runs the exchange
// over the connection, and masks every secret-bearing line (the masking itself lives in commands.ts).
import type { Capabilities } from './capabilities.ts';
import { encodeCommand, encodeSaslLine } from './commands.ts';
import type { Pop3Connection } from './connection.ts';
import { isPop3Error, Pop3Error } from './errors.ts';
import { apopDigest, chooseAuth, createSaslSession, type SaslMechanismName } from './sasl/index.ts';
import type { Pop3Credentials, TlsMode } from './types.ts';

export interface AuthContext {
  connection: Pop3Connection;
  capabilities: Capabilities;
  greeting: string;
  tlsMode: TlsMode;
  /** True when the socket is encrypted (implicit TLS, or after STLS). */
  secure: boolean;
  host: string;
  port: number;
  signal?: AbortSignal | undefined;
}

/** RFC 5034 §4: the AUTH command with its initial response must fit in 255 octets, CRLF included. */
const MAX_AUTH_LINE = 255;

/**
 * Checked before a single byte of a credential is written. APOP, CRAM-MD5 and SCRAM don't send the
 * password itself, but they still need TLS or the explicit opt-in: one simple, strict rule.
 */
export function assertMaySendSecrets(context: AuthContext, credentials: Pop3Credentials): void {
  if (context.secure) return;
  if (context.tlsMode === 'none' && credentials.allowPlaintextAuth === true) return;
  throw new Pop3Error(
    'POP3_PLAINTEXT_REFUSED',
    'refusing to send credentials without TLS (use tls: implicit or starttls, or allowPlaintextAuth with tls: none)',
    { retryable: false },
  );
}

export async function authenticate(context: AuthContext, credentials: Pop3Credentials): Promise<void> {
  assertMaySendSecrets(context, credentials);
  const method = chooseAuth(
    credentials.auth ?? 'auto',
    [...context.capabilities.sasl],
    { user: context.capabilities.user },
    credentials,
  );
  if (method === 'USER') return userPass(context, credentials);
  if (method === 'APOP') return apop(context, credentials);
  return sasl(context, credentials, method);
}

async function userPass(context: AuthContext, credentials: Pop3Credentials): Promise<void> {
  const { connection, signal } = context;
  await connection.sendLine(encodeCommand('USER', [credentials.username]), { signal });
  await connection.sendLine(encodeCommand('PASS', [credentials.password ?? '']), { signal });
}

/** RFC 1939 §7: the timestamp is the greeting's `<...>` token, msg-id-like. */
const TIMESTAMP = /<[\x21-\x3b\x3d\x3f-\x7e]+>/;

async function apop(context: AuthContext, credentials: Pop3Credentials): Promise<void> {
  const timestamp = TIMESTAMP.exec(context.greeting)?.[0];
  if (!timestamp) {
    throw new Pop3Error('POP3_AUTH_UNSUPPORTED', 'APOP asked for, but the greeting carries no <timestamp>');
  }
  const digest = apopDigest(timestamp, credentials.password ?? '');
  await context.connection.sendLine(encodeCommand('APOP', [credentials.username, digest]), {
    signal: context.signal,
  });
}

async function sasl(context: AuthContext, credentials: Pop3Credentials, mechanism: SaslMechanismName) {
  const saslCredentials = {
    username: credentials.username,
    ...(credentials.password === undefined ? {} : { password: credentials.password }),
    ...(credentials.accessToken === undefined ? {} : { accessToken: credentials.accessToken }),
    host: context.host,
    port: context.port,
  };
  // XOAUTH2 always takes the two-line form (AUTH XOAUTH2, then the payload after the empty challenge):
  // Microsoft 365 requires it and Gmail accepts it (DESIGN.md "Known traps").
  const options = { xoauth2TwoLine: mechanism === 'XOAUTH2' };
  let session = createSaslSession(mechanism, saslCredentials, options);
  const initial = session.initialResponse();
  let args: string[] = [mechanism];
  if (initial !== null) {
    const encoded = initial.length === 0 ? '=' : initial.toString('base64');
    initial.fill(0);
    if (`AUTH ${mechanism} ${encoded}\r\n`.length <= MAX_AUTH_LINE) {
      args = [mechanism, encoded];
    } else {
      // Too long for the AUTH line: start afresh and send the same bytes after the empty challenge.
      session = createSaslSession(mechanism, saslCredentials, options);
    }
  }
  let failure: Pop3Error | undefined;
  const onContinue = (text: string) => {
    if (failure) return context.connection.writeContinuation(encodeSaslLine('*'));
    try {
      const answer = session.respond(decodeChallenge(mechanism, text));
      context.connection.writeContinuation(encodeSaslLine(answer.toString('base64')));
      answer.fill(0);
    } catch (error) {
      failure = isPop3Error(error)
        ? error
        : new Pop3Error('POP3_SASL_FAILED', `${mechanism}: ${String(error)}`);
      // RFC 5034 §4: "*" cancels; the server then answers -ERR.
      context.connection.writeContinuation(encodeSaslLine('*'));
    }
  };
  try {
    await context.connection.sendLine(encodeCommand('AUTH', args), { signal: context.signal, onContinue });
  } catch (error) {
    throw failure ?? error;
  }
  if (failure) throw failure;
  session.complete();
}

function decodeChallenge(mechanism: SaslMechanismName, text: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new Pop3Error('POP3_SASL_FAILED', `${mechanism}: the server's challenge is not base64`);
  }
  return Buffer.from(trimmed, 'base64');
}
