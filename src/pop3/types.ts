// Public option and result types of the POP3 client, kept apart from the code so that src/pop3/sasl
// and callers can import them without pulling in sockets.

export const TLS_MODES = ['implicit', 'starttls', 'none'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** RFC 8314 §3.3: 995 for POP3 over implicit TLS; RFC 1939 §3: 110 otherwise (STLS upgrades it). */
export function defaultPort(tls: TlsMode): number {
  return tls === 'implicit' ? 995 : 110;
}

export const AUTH_METHODS = [
  'auto',
  'user',
  'apop',
  'plain',
  'login',
  'cram-md5',
  'scram-sha-1',
  'scram-sha-256',
  'xoauth2',
  'oauthbearer',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The methods that send an OAuth 2.0 access token instead of a password (RFC 7628, XOAUTH2). */
export function isTokenAuth(method: unknown): boolean {
  return method === 'xoauth2' || method === 'oauthbearer';
}

export type Pop3State = 'authorization' | 'transaction' | 'closed';

/** Structurally compatible with pino's Logger (and with src/telemetry/logger.ts). */
export interface Pop3Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Pop3ClientOptions {
  host: string;
  /** Default 995 for implicit TLS (RFC 8314), 110 otherwise. */
  port?: number;
  tls: TlsMode;
  ca?: string | Buffer | Array<string | Buffer>;
  servername?: string;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Default true. */
  rejectUnauthorized?: boolean;
  /** TCP + TLS handshake, default 15 000. */
  connectTimeoutMs?: number;
  /** Default 15 000. */
  greetingTimeoutMs?: number;
  /** Idle time allowed waiting for a reply line or the next chunk of a multi-line reply, default 60 000. */
  commandTimeoutMs?: number;
  /**
   * Bound on the whole session from the greeting on, default 30 minutes: a server that trickles bytes
   * resets the idle timer forever (POP3_SESSION_TIMEOUT).
   */
  sessionTimeoutMs?: number;
  /** Bound on one status line, default 8 KiB. */
  maxLineBytes?: number;
  /** Bound on a multi-line listing (CAPA, LIST, UIDL), default 64 MiB. */
  maxListingBytes?: number;
  /** Default true: pipeline when CAPA advertises PIPELINING (RFC 2449 §6.6). */
  pipelining?: boolean;
  /** Bound on pipelined commands not yet answered, default 32. */
  maxInFlight?: number;
  /** Debug lines of the transcript, secrets masked. */
  logger?: Pop3Logger;
  /** Aborts connect and, later, the whole session. */
  signal?: AbortSignal;
}

export interface Pop3Credentials {
  username: string;
  password?: string;
  accessToken?: string;
  /** Default 'auto'. */
  auth?: AuthMethod;
  /** Only honoured with tls: 'none'. */
  allowPlaintextAuth?: boolean;
}

export interface TlsInfo {
  protocol: string;
  cipher: string;
  authorized: boolean;
  subject?: string;
  issuer?: string;
  validTo?: string;
  fingerprint256?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RetrOptions extends CallOptions {
  /** Abort the transfer (POP3_MESSAGE_TOO_LARGE) past this many unstuffed bytes; closes the connection. */
  maxBytes?: number;
}

export interface MessageSize {
  msg: number;
  size: number;
}

export interface MessageUid {
  msg: number;
  uid: string;
}

export interface MailboxStat {
  count: number;
  size: number;
}
