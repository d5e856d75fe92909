// The POP3 client's error catalog: one class, stable codes, the server's RFC 2449/3206 response code,
// and whether a retry can help. Self-contained so src/pop3 can be published on its own.

export const POP3_ERROR_CODES = {
  POP3_CONNECT_FAILED: 'the TCP connection could not be opened',
  POP3_CONNECT_TIMEOUT: 'the TCP or TLS connection did not open in time',
  POP3_GREETING_TIMEOUT: 'the server sent no greeting in time',
  POP3_COMMAND_TIMEOUT: 'the server did not answer a command (or stalled mid-reply) in time',
  POP3_SESSION_TIMEOUT: 'the whole session took longer than its budget',
  POP3_CONNECTION_CLOSED: 'the server closed the connection unexpectedly',
  POP3_TLS_FAILED: 'the TLS handshake failed or the certificate was not trusted',
  POP3_PORT_SPEAKS_PLAIN: 'TLS was expected but the port greets in plain POP3: use tls: starttls',
  POP3_PORT_EXPECTS_TLS: 'the port expects a TLS handshake at once (implicit TLS): use tls: implicit',
  POP3_STLS_UNAVAILABLE: 'tls: starttls was asked for but the server does not offer STLS',
  POP3_STLS_INJECTION: 'bytes arrived between +OK to STLS and the TLS handshake (STARTTLS injection)',
  POP3_PLAINTEXT_REFUSED: 'a password would have been sent without TLS',
  POP3_AUTH_FAILED: 'the server rejected the credentials',
  POP3_AUTH_UNSUPPORTED: 'no authentication mechanism both sides support',
  POP3_SASL_FAILED: 'the SASL exchange broke (bad challenge, server signature mismatch)',
  POP3_CREDENTIALS_MISSING: 'the chosen method needs a password or access token that was not given',
  POP3_IN_USE: 'the mailbox is locked by another session ([IN-USE]); try later',
  POP3_LOGIN_DELAY: 'the server asks for a longer delay between logins ([LOGIN-DELAY])',
  POP3_SYS_TEMP: 'the server has a temporary problem ([SYS/TEMP])',
  POP3_SYS_PERM: 'the server has a permanent problem ([SYS/PERM])',
  POP3_ERR: 'the server answered -ERR to a command',
  POP3_PROTOCOL: 'the server broke the protocol (malformed reply, wrong counts, unexpected data)',
  POP3_LINE_TOO_LONG: 'a reply line or listing exceeded its bound',
  POP3_MESSAGE_TOO_LARGE: 'a message exceeded maxMessageBytes; the transfer was aborted',
  POP3_BAD_ARGUMENT: 'a command argument contained CR, LF or NUL, or was out of range',
  POP3_STATE: 'the command is not allowed in the session state',
  POP3_ABORTED: 'the operation was aborted by its AbortSignal',
} as const;

export type Pop3ErrorCode = keyof typeof POP3_ERROR_CODES;

export interface Pop3ErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** The command as sent, with secrets masked (`PASS ****`). */
  command?: string;
  /** The server's text after -ERR, without the response code. */
  serverText?: string;
  /** RFC 2449 extended response code, e.g. `IN-USE`, `SYS/TEMP`, `AUTH`. */
  responseCode?: string;
  /** Id of the provider reply the server's text matched (known-replies.ts), e.g. `gmail-web-login-required`. */
  known?: string;
}

/** Codes for which trying again later can succeed. */
const RETRYABLE: ReadonlySet<Pop3ErrorCode> = new Set<Pop3ErrorCode>([
  'POP3_CONNECT_FAILED',
  'POP3_CONNECT_TIMEOUT',
  'POP3_GREETING_TIMEOUT',
  'POP3_COMMAND_TIMEOUT',
  'POP3_SESSION_TIMEOUT',
  'POP3_CONNECTION_CLOSED',
  'POP3_IN_USE',
  'POP3_LOGIN_DELAY',
  'POP3_SYS_TEMP',
]);

export class Pop3Error extends Error {
  override readonly name = 'Pop3Error';
  readonly code: Pop3ErrorCode;
  readonly retryable: boolean;
  readonly command: string | undefined;
  readonly serverText: string | undefined;
  readonly responseCode: string | undefined;
  readonly known: string | undefined;

  constructor(code: Pop3ErrorCode, message: string, options: Pop3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.command = options.command;
    this.serverText = options.serverText;
    this.responseCode = options.responseCode;
    this.known = options.known;
  }
}

export function isPop3Error(error: unknown, code?: Pop3ErrorCode): error is Pop3Error {
  return error instanceof Pop3Error && (code === undefined || error.code === code);
}
